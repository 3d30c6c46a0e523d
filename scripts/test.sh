#!/usr/bin/env bash
# Sets up (packages + build) and runs every test, then the parsers' fuzz targets for a bounded
# time. Used by the README and by .ci/run.
#
#   TEST_JOBS=2       ctest parallelism
#   FUZZ_SECONDS=15   time per fuzz target (5 targets); FUZZ_SECONDS=0 skips fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${TEST_JOBS:-2}" --timeout 600
if [[ "${FUZZ_SECONDS:-15}" != 0 ]]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-15}" scripts/fuzz.sh
fi
