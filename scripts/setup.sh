#!/usr/bin/env bash
# Installs the Debian packages the project builds and runs with, and the npm
# package the OpenAPI test validates /openapi.json with.
# Idempotent: packages already present are skipped, and apt and npm are not touched
# at all when nothing is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The OpenAPI 3.1 validator of tests/api/openapi_test.cc (PORTAL_NPM_DIR in CMake).
NPM_DIR="${PORTAL_NPM_DIR:-${ROOT}/build/npm}"
OPENAPI_VALIDATOR="@seriousme/openapi-schema-validator@2.11.0"

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler
  libspdlog-dev libssl-dev libjwt-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgoogle-perftools-dev
)
# Node for the OpenAPI validator; any node already on PATH (nodesource, nvm) will do.
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

install_npm_tools() {
  local validator="${NPM_DIR}/node_modules/@seriousme/openapi-schema-validator/package.json"
  local want="${OPENAPI_VALIDATOR##*@}"
  if [ -f "$validator" ] && grep -q "\"version\": \"${want}\"" "$validator"; then
    echo "setup: ${OPENAPI_VALIDATOR} present in ${NPM_DIR}"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm not found; skipping ${OPENAPI_VALIDATOR} (the OpenAPI test needs it)" >&2
    return 0
  fi
  echo "setup: installing ${OPENAPI_VALIDATOR} into ${NPM_DIR}"
  mkdir -p "$NPM_DIR"
  # Offline, the build and portald still work: only the OpenAPI test needs it.
  npm install --no-audit --no-fund --silent --prefix "$NPM_DIR" "$OPENAPI_VALIDATOR" ||
    echo "setup: npm install ${OPENAPI_VALIDATOR} failed (the OpenAPI test needs it)" >&2
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  install_npm_tools
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_npm_tools
echo "setup: done"
