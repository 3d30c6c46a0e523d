#!/usr/bin/env bash
# Builds worker-light's libFuzzer targets (tests/fuzz, clang + ASan + UBSan) and runs each for a
# bounded time, seeded with the example scenes and the test meshes. Exit status 0 when no target
# crashed, leaked, hung on one input or ran out of memory; otherwise 1, after printing where each
# failing input was saved and the command that replays it.
#
#   scripts/fuzz.sh                              # every target, FUZZ_SECONDS=20 each
#   FUZZ_SECONDS=300 scripts/fuzz.sh mesh_loader # one target, longer
#
# Environment: FUZZ_SECONDS (per target, default 20), FUZZ_BUILD_DIR (default build-fuzz),
# FUZZ_JOBS (build parallelism, default 2), CXX_FUZZ (default clang++-14).
# Time: about FUZZ_SECONDS x 5 targets plus the first build (~3 min on 2 cores; ccache helps).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-${root}/build-fuzz}"
seconds="${FUZZ_SECONDS:-20}"
jobs="${FUZZ_JOBS:-2}"
cxx="${CXX_FUZZ:-clang++-14}"
cc="${cxx/clang++/clang}"
all_targets=(manifest_check json_positions xml_check mesh_check mesh_loader)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")

if ! command -v "${cxx}" > /dev/null; then
  echo "fuzz.sh: ${cxx} not found (Debian: apt-get install clang-14)" >&2
  exit 2
fi
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
mkdir -p "${build}"
cmake -S "${root}/tests/fuzz" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="${cxx}" -DCMAKE_C_COMPILER="${cc}" "${launcher[@]}" > "${build}/configure.log" 2>&1 ||
  { cat "${build}/configure.log" >&2; exit 2; }
cmake --build "${build}" -j "${jobs}" -- $(printf 'fuzz_%s ' "${targets[@]}")

# Seeds: files of the kind each target reads, from the examples and the tests.
seeds_for() {
  case "$1" in
    manifest_check | json_positions) find "${root}/examples" "${root}/tests/light" -name '*.json' ;;
    xml_check) find "${root}/examples" "${root}/tests/light" -name '*.xml' ;;
    mesh_check | mesh_loader) find "${root}/examples" "${root}/tests/light" \
      \( -iname '*.stl' -o -iname '*.obj' \) ;;
  esac
}

failed=()
for target in "${targets[@]}"; do
  corpus="${build}/corpus/${target}"
  crashes="${build}/crashes/${target}"
  mkdir -p "${corpus}" "${crashes}"
  # The mesh targets read a format byte first: seed both formats with each file.
  while IFS= read -r seed; do
    [[ -n "${seed}" ]] || continue
    name="$(basename "${seed}")"
    case "${target}" in
      mesh_check | mesh_loader)
        case "${name,,}" in
          *.obj) { printf '\x01'; cat "${seed}"; } > "${corpus}/seed-${name}" ;;
          *) { printf '\x00'; cat "${seed}"; } > "${corpus}/seed-${name}" ;;
        esac ;;
      *) cp "${seed}" "${corpus}/seed-${name}" ;;
    esac
  done < <(seeds_for "${target}")
  log="${build}/fuzz_${target}.log"
  echo "fuzz_${target}: ${seconds} s (log ${log})"
  if "${build}/fuzz_${target}" -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=2048 \
       -max_len=262144 -print_final_stats=1 -artifact_prefix="${crashes}/" "${corpus}" \
       > "${log}" 2>&1; then
    grep -E '^stat::number_of_executed_units' "${log}" | sed 's/^/  /' || true
  else
    failed+=("${target}")
    echo "fuzz_${target} FAILED; its last lines:" >&2
    tail -n 30 "${log}" >&2
    for artifact in "${crashes}"/*; do
      [[ -f "${artifact}" ]] || continue
      echo "  failing input: ${artifact}" >&2
      echo "  replay:        ${build}/fuzz_${target} ${artifact}" >&2
    done
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}; make each input a regression test" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s), ${seconds} s each, no failure"
