#!/usr/bin/env bash
# The program of //oci:load and //oci:push: runs the executables named by
# the runfiles paths before "--", one after the other, each with the
# arguments after it, and stops at the first that fails.
#
#   run_each.sh oci/api_load.sh _main/oci/notifier_load.sh -- [ARG...]

# --- begin runfiles.bash initialization v3 ---
set -uo pipefail; set +e; f=bazel_tools/tools/bash/runfiles/runfiles.bash
# shellcheck disable=SC1090
source "${RUNFILES_DIR:-/dev/null}/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "${RUNFILES_MANIFEST_FILE:-/dev/null}" | cut -f2- -d' ')" 2>/dev/null || \
  source "$0.runfiles/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.exe.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  { echo>&2 "ERROR: cannot find $f"; exit 1; }; f=; set -e
# --- end runfiles.bash initialization v3 ---

# The targets are run from this program's runfiles, which hold theirs: they
# find them through the variables exported here.
runfiles_export_envvars

targets=()
while (($# > 0)) && [[ $1 != -- ]]; do
  targets+=("$1")
  shift
done
if (($# == 0)); then
  echo "run_each.sh: no \"--\" after the targets (the args of the sh_binary end with it)" >&2
  exit 2
fi
shift

for target in "${targets[@]}"; do
  exe=$(rlocation "$target") || true
  if [[ -z $exe || ! -x $exe ]]; then
    echo "run_each.sh: $target is not in the runfiles" >&2
    exit 1
  fi
  echo "run_each.sh: ${target##*/}" >&2
  "$exe" "$@"
done
