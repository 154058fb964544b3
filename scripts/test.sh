#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest.
#   scripts/test.sh              all tests
#   scripts/test.sh -L unit      only one label (unit, integration, crash, e2e)
# Extra arguments go to ctest. BUILD_DIR (default build/) picks the build tree.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

scripts/setup.sh

build_dir=${BUILD_DIR:-build}
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTAL_WERROR="$werror" >/dev/null
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure --parallel 2 "$@"
