#!/usr/bin/env bash
# The main job: set up, then `controller demo` starts a worker-light and a worker-heavy on
# loopback, puts the example scene into a fresh workspace, runs the end-to-end flow (write,
# lint, topology, commit, bundle, build, simulate with video and heatmaps, results committed)
# and shuts the servers down. Extra arguments go to `controller demo` (e.g. --verify=8).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
exec "$BUILD_DIR/services/controller/controller" demo "$@"
