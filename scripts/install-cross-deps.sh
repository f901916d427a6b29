#!/usr/bin/env bash
# Installs what the aarch64 cross build and its tests under QEMU need (make test-aarch64):
# Debian's cross compiler, qemu-user and the arm64 builds of sira's libraries through
# Debian multiarch. libhdf5-dev is not co-installable across architectures (its helper
# programs are not multi-arch), so its arm64 package is unpacked into SYSROOT instead,
# beside the multiarch runtime libhdf5-103-1:arm64. Idempotent; apt runs only when
# something is missing.
set -euo pipefail
SYSROOT=${1:-build-aarch64-sysroot}

packages=(
  g++-aarch64-linux-gnu qemu-user
  libstdc++6:arm64 libgomp1:arm64
  libhdf5-103-1:arm64 libhdf5-hl-100:arm64 libtiff-dev:arm64 libpng-dev:arm64 libfftw3-dev:arm64
  libgtest-dev:arm64 libgmock-dev:arm64
  libzmq3-dev:arm64 libcbor-dev:arm64 liblz4-dev:arm64 libcpp-httplib-dev:arm64
)

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive

updated=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-cross-deps: adding the arm64 architecture"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  updated=1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-cross-deps: installing ${missing[*]}"
  [ $updated -eq 1 ] || $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The arm64 HDF5 headers (their H5pubconf.h differs from the host's) and link names.
if [ ! -f "$SYSROOT/usr/include/hdf5/serial/hdf5.h" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download libhdf5-dev:arm64 >/dev/null 2>&1)
  mkdir -p "$SYSROOT"
  dpkg -x "$tmp"/libhdf5-dev_*_arm64.deb "$SYSROOT"
  echo "install-cross-deps: unpacked libhdf5-dev:arm64 into $SYSROOT"
fi
# XNNPACK (the fp32 fast path on ARM, docs/engine.md) and the libraries it links:
# their packages are not Multi-Arch, so the arm64 ones are unpacked here as well.
lib="$SYSROOT/usr/lib/aarch64-linux-gnu"
if [ ! -f "$lib/libXNNPACK.so" ] || [ ! -e "$lib/libcpuinfo.so" ]; then
  xtmp=$(mktemp -d)
  (cd "$xtmp" && apt-get download libxnnpack-dev:arm64 libxnnpack0:arm64 libpthreadpool-dev:arm64 \
     libpthreadpool0:arm64 libcpuinfo0:arm64 >/dev/null 2>&1)
  mkdir -p "$SYSROOT"
  for d in "$xtmp"/*.deb; do dpkg -x "$d" "$SYSROOT"; done
  rm -rf "$xtmp"
  ln -sf libcpuinfo.so.0 "$lib/libcpuinfo.so"  # for the link step (the -dev package has none)
  echo "install-cross-deps: unpacked XNNPACK, pthreadpool and cpuinfo for arm64 into $SYSROOT"
fi
echo "install-cross-deps: ready (aarch64-linux-gnu-g++ $(aarch64-linux-gnu-g++ -dumpversion), $(qemu-aarch64 --version | head -1))"
