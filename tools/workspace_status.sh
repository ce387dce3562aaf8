#!/usr/bin/env bash
# Bazel's --workspace_status_command (see the release config in .bazelrc).
# Prints "KEY value" lines; STABLE_ keys re-link and re-stamp when they change.
#   STABLE_GIT_COMMIT  the commit, with -dirty if tracked files differ from it
#   STABLE_VERSION     the newest tag plus distance (git describe), or the commit
# x_defs in services/api/BUILD.bazel ({STABLE_...}) and the image annotations
# and push tags in oci/BUILD.bazel ({{STABLE_...}}) use them.
set -euo pipefail

# Outside a git checkout (a source archive) say so rather than fail the build.
if ! commit=$(git rev-parse HEAD 2>/dev/null); then
  echo "STABLE_GIT_COMMIT unknown"
  echo "STABLE_VERSION dev"
  exit 0
fi
dirty=""
if ! git diff --quiet HEAD -- 2>/dev/null; then
  dirty="-dirty"
fi
version=$(git describe --tags --always 2>/dev/null || echo "$commit")

echo "STABLE_GIT_COMMIT ${commit}${dirty}"
echo "STABLE_VERSION ${version}${dirty}"
