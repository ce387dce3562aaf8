#!/usr/bin/env bash
# Builds the Postgres *test* image (default gantry-test/postgres:17) with no
# image registry: debootstrap a Debian rootfs from apt (cached), then turn it
# into an image with tools/pgimage (main.go) and load it into Docker.
#
# Env:
#   GANTRY_CACHE   cache dir (default /var/cache/gantry). The trimmed rootfs is
#                  kept at $GANTRY_CACHE/trixie-rootfs.tar so re-runs skip
#                  debootstrap, and so other images can take CA certs
#                  (./etc/ssl/certs/ca-certificates.crt) and ./usr/share/zoneinfo
#                  from it. Delete the tarball to refresh packages.
#   PGIMAGE_TAG    image tag (default gantry-test/postgres:17)
#   DEBIAN_MIRROR  (default http://deb.debian.org/debian)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GANTRY_CACHE:-/var/cache/gantry}
tag=${PGIMAGE_TAG:-gantry-test/postgres:17}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rootfs_tar=$cache/trixie-rootfs.tar

mkdir -p "$cache"

if [[ ! -s $rootfs_tar ]]; then
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 debootstrap >/dev/null
  fi
  # Build in the cache dir (same filesystem, so the final mv is atomic and an
  # interrupted run never leaves a half-written tarball at $rootfs_tar).
  dir=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$dir" "$rootfs_tar.tmp"' EXIT
  start=$SECONDS
  debootstrap --variant=minbase --include=postgresql-17,ca-certificates,tzdata \
    trixie "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  echo "build.sh: debootstrap took $((SECONDS - start))s" >&2
  # postgresql-common's postinst creates a 17/main cluster we never use (the
  # entrypoint initdb's $PGDATA). LLVM (+z3) is only for JIT (~180MB); without
  # llvmjit.so postgres just runs without JIT, which suits short test queries.
  # Translations, locale sources, apt caches and docs are dead weight too.
  rm -rf "$dir"/var/lib/postgresql/17 "$dir"/etc/postgresql/17 \
    "$dir"/usr/lib/postgresql/17/lib/llvmjit* "$dir"/usr/lib/postgresql/17/lib/bitcode \
    "$dir"/usr/lib/x86_64-linux-gnu/libLLVM* "$dir"/usr/lib/x86_64-linux-gnu/libz3.* \
    "$dir"/usr/share/locale/* "$dir"/usr/share/i18n \
    "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  # mktemp made it 0700, and it becomes the image's /.
  chmod 0755 "$dir"
  # --numeric-owner: the host's /etc/passwd must not remap the rootfs's uids.
  tar -C "$dir" --numeric-owner -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$dir"
  trap - EXIT
fi

# The image itself is assembled in Go (no Dockerfile, no docker import):
# the cached rootfs as a layer, the entrypoint and postgres's directories
# as a second, and the official image's runtime contract in the config.
cd "$here/../.."
go run ./tools/pgimage -rootfs "$rootfs_tar" -tag "$tag"
