#!/usr/bin/env bash
# Installs every Debian package that building, testing and running sira needs.
# Idempotent and non-interactive: packages already present are skipped, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers libtorch-dev
  # the XNNPACK backend (fp32; docs/engine.md)
  libxnnpack-dev libpthreadpool-dev
  libhdf5-dev libtiff-dev libpng-dev libfftw3-dev
  # the MPI build (make test-mpi, docs/scale.md): OpenMPI and HDF5 built on it, which
  # Debian installs beside the serial HDF5 (the default build keeps using the serial one)
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  # the Python module (import sira), built for Debian's Python 3
  pybind11-dev python3-dev
  # independent oracles used by the tests (Debian's Python stack at /usr/bin/python3)
  python3-torch python3-skimage python3-h5py python3-numpy python3-tifffile python3-pil
  # ONNX export tests: the ONNX checker (node/npm for onnxruntime-node: see below)
  python3-onnx
  # TFLite export: flatc generates the writer from the pinned schema (third_party/tflite);
  # the test reads files back with flatc (JSON) and its Python reader, and runs them in
  # npm @litertjs/core under node
  flatbuffers-compiler libflatbuffers-dev python3-flatbuffers
  # sira serve / stream-sim (docs/serve.md): ZeroMQ, CBOR, LZ4, the metrics endpoint
  cppzmq-dev libzmq3-dev libcbor-dev liblz4-dev libcpp-httplib-dev
  # the serve tests: an independent CBOR/ZeroMQ/LZ4 side and HDF5's LZ4 (32004) and
  # bitshuffle (32008) filters as oracles; Debian 12's hdf5-filter-plugin ships only LZ4
  # and BZip2 despite its description, the bitshuffle package has libh5bshuf.so
  python3-zmq python3-cbor2 python3-lz4 hdf5-filter-plugin bitshuffle
  # the live page's test: a screenshot in headless Chromium
  chromium-headless-shell
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (the ONNX tests install onnxruntime-node with npm) are wanted as
# commands, not as Debian packages: a machine may have NodeSource's nodejs, which
# bundles npm and conflicts with Debian's npm package. Install Debian's only when
# the command is absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
