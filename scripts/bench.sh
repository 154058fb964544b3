#!/usr/bin/env bash
# Builds the benchmarks in Release and runs them; each suite writes
# bench-results/<suite>.json. See docs/PERFORMANCE.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ROOT}/build-release"
RESULTS_DIR="${ROOT}/bench-results"

# Suites, in the order `all` runs them. Each names a CMake target under
# tests/bench/ whose program takes `--runs N --out FILE [--quick]`, prints a table
# and writes a flat JSON object to FILE. To add a suite (commands, projections,
# http): add its executable to tests/bench/CMakeLists.txt and one line here.
# A suite with a SUITE_DRIVER runs that script (same flags, plus --build-dir)
# instead; its target then only builds what the script runs.
SUITES=(eventstore commands projections http)
declare -A SUITE_TARGET=(
  [eventstore]=eventstore_bench
  [commands]=commands_bench
  [projections]=projections_bench
  [http]=http_bench
)
declare -A SUITE_DRIVER=(
  [http]=scripts/bench_http.sh
)
declare -A SUITE_DESCRIPTION=(
  [eventstore]="appends (buffered 1 writer, sync 64 writers), read_all/scan_all, read_stream; each beside plain RocksDB"
  [commands]="commands through portal::Engine (buffered 1 caller, sync 64 callers) beside plain RocksDB; cold load of a 1,000-event provider stream"
  [projections]="rebuild of every read model over a 1,000,000-event log beside plain RocksDB scan and batched writes; audit page p99; read models' lag"
  [http]="wrk against portald on loopback (GET clients, POST invite with sync durability, events page) beside nginx serving the same body"
)

usage() {
  cat <<USAGE
usage: scripts/bench.sh [SUITE|all] [--runs N] [--quick]

Installs what is missing (scripts/setup.sh; the http suite also installs wrk,
nginx-light, curl and jq), configures a Release build in build-release/, builds
the suite's benchmark and runs it.

Suites:
USAGE
  for s in "${SUITES[@]}"; do
    printf '  %-12s %s\n' "$s" "${SUITE_DESCRIPTION[$s]}"
  done
  cat <<USAGE
  all          every suite above (the default)

Options:
  --runs N     runs per figure; each reported figure is the median (default 3)
  --quick      smaller workloads, 1 run unless --runs is given (a smoke test)
  -h, --help   this text

Outputs:
  stdout                         a table per suite: figure, ours, raw ceiling, ratio,
                                 target, PASS/FAIL
  bench-results/<suite>.json     flat JSON object of the medians (keys in
                                 docs/PERFORMANCE.md)
USAGE
}

suite="all"
suite_given=0
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs)
      if [ $# -lt 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
        echo "bench.sh: --runs needs a positive number" >&2; usage >&2; exit 2
      fi
      bench_args+=(--runs "$2"); shift 2 ;;
    --quick) bench_args+=(--quick); shift ;;
    -*) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      if [ "$suite_given" -eq 1 ]; then
        echo "bench.sh: one suite at a time (or all)" >&2; usage >&2; exit 2
      fi
      suite="$1"; suite_given=1; shift ;;
  esac
done

if [ "$suite" = "all" ]; then
  selected=("${SUITES[@]}")
elif [ -n "${SUITE_TARGET[$suite]+x}" ]; then
  selected=("$suite")
else
  echo "bench.sh: unknown suite '$suite'" >&2
  usage >&2
  exit 2
fi

"${ROOT}/scripts/setup.sh"

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DPORTAL_BUILD_TESTS=OFF -DPORTAL_BUILD_BENCH=ON
targets=()
for s in "${selected[@]}"; do targets+=("${SUITE_TARGET[$s]}"); done
cmake --build "$BUILD_DIR" --target "${targets[@]}"

mkdir -p "$RESULTS_DIR"
written=()
for s in "${selected[@]}"; do
  echo "== bench: $s"
  out="${RESULTS_DIR}/${s}.json"
  if [ -n "${SUITE_DRIVER[$s]+x}" ]; then
    "${ROOT}/${SUITE_DRIVER[$s]}" "${bench_args[@]}" --out "$out" --build-dir "$BUILD_DIR"
  else
    "${BUILD_DIR}/tests/bench/${SUITE_TARGET[$s]}" "${bench_args[@]}" --out "$out"
  fi
  written+=("$out")
done

echo
echo "Results:"
for f in "${written[@]}"; do echo "  $f"; done
