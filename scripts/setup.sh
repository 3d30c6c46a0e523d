#!/usr/bin/env bash
# Installs workerpair's Debian packages (only when one is missing) and builds the project.
#
#   scripts/setup.sh            # packages + Release build in ./build
#   BUILD_DIR=out scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto libabsl-dev
  libre2-dev libssl-dev libspdlog-dev libfmt-dev catch2 zlib1g-dev nlohmann-json3-dev libexpat1-dev
  libmujoco-dev libqhull-dev libgit2-dev libarchive-dev libopencv-dev
  libegl-dev libgl1-mesa-dri libegl1 libegl-mesa0 ffmpeg openssl
  # Sandboxes for worker-heavy's runners and worker-light's linters (libs/sandbox).
  libseccomp-dev
  # Fuzz targets of the parsers worker-light runs on workspace content (libFuzzer).
  clang libclang-rt-14-dev
  # Linters worker-light runs for Python, shell and YAML files (reported missing if absent).
  pyflakes3 shellcheck yamllint
  # Test tooling: the image package check is a Python script.
  python3
  # The Python client (clients/python), its install test (venv + setuptools) and the USAGE
  # commands' test (jq reads buf curl's JSON).
  python3-grpcio python3-protobuf python3-setuptools python3-wheel python3-venv jq
  # promtool (`promtool check metrics` on every /metrics endpoint in the tests).
  prometheus
)
# node + npm validate deploy/k8s offline (tests/deploy); skip when a node install already has npm.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}"
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"
