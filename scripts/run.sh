#!/usr/bin/env bash
# Builds a Release portald and starts it on 127.0.0.1:8080 with demo data.
#   scripts/run.sh           install what is missing, build, create ./data with the demo once, serve
#   scripts/run.sh --help    this help
# First run: creates ./data with a random HS256 secret (data/jwt.secret) and loads the
# demo (portalctl demo: the MSP "Northwind IT", its team and 25 client organizations).
# Later runs reuse ./data as it is. Prints a staff token, a provider admin token and
# curl commands to try, then runs portald in the foreground: Ctrl-C stops it cleanly.
# Environment: BUILD_DIR (default build-release/), DATA_DIR (default ./data), PORT (8080).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if [ $# -gt 0 ]; then
  echo "run.sh: unexpected argument '$1'; see 'scripts/run.sh --help'." >&2
  exit 2
fi

build_dir=${BUILD_DIR:-build-release}
data_dir=${DATA_DIR:-./data}
address=127.0.0.1
port=${PORT:-8080}

scripts/setup.sh

echo "run.sh: building portald and portalctl (Release) in $build_dir/"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPORTAL_BUILD_TESTS=OFF -DPORTAL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" --target portald portalctl
portald="$build_dir/api/portald"
portalctl="$build_dir/api/portalctl"

mkdir -p "$data_dir"
secret_file="$data_dir/jwt.secret"
if [ ! -s "$secret_file" ]; then
  (
    umask 077
    if command -v openssl >/dev/null 2>&1; then
      openssl rand -hex 32 | tr -d '\n' >"$secret_file"
    else
      head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$secret_file"
    fi
  )
  chmod 600 "$secret_file"
  echo "run.sh: created $secret_file (HS256 secret for development tokens)"
fi

if [ ! -f "$data_dir/demo.json" ] || [ ! -f "$data_dir/demo.env" ]; then
  echo "run.sh: loading the demo into $data_dir"
  "$portalctl" demo --data-dir "$data_dir"
else
  echo "run.sh: reusing $data_dir (delete it to start over)"
fi

# PROVIDER_ID, ADMIN_USER_ID, ADMIN_EMAIL, ADMIN_NAME, STAFF_USER_ID, ORG_ID, ...
# shellcheck disable=SC1091
. "$data_dir/demo.env"

staff_token=$("$portalctl" token --data-dir "$data_dir" --user "$STAFF_USER_ID" --staff \
  --email "$STAFF_EMAIL" --name "Portal Staff" --ttl 12h)
admin_token=$("$portalctl" token --data-dir "$data_dir" --user "$ADMIN_USER_ID" \
  --email "$ADMIN_EMAIL" --name "$ADMIN_NAME" --ttl 12h)
base="http://$address:$port"

cat <<EOF

Provider "$PROVIDER_NAME" ($PROVIDER_ID), administered by $ADMIN_NAME <$ADMIN_EMAIL>;
$CLIENT_COUNT client organizations, the first "$ORG_NAME" ($ORG_ID). All ids: $data_dir/demo.json

Tokens, valid 12 hours (more: $portalctl token --data-dir $data_dir --user ID [--staff] --ttl 12h).
In another terminal, set them:

  export STAFF='$staff_token'
  export ADMIN='$admin_token'

then try:

  # the provider's client organizations (seats, occupied seats, plan), as its admin
  curl -s -H "Authorization: Bearer \$ADMIN" $base/providers/$PROVIDER_ID/organizations

  # the audit history of $ORG_NAME (last 30 days, 50 a page)
  curl -s -H "Authorization: Bearer \$ADMIN" $base/organizations/$ORG_ID/events

  # invite a service user into the provider's team
  curl -s -X POST -H "Authorization: Bearer \$ADMIN" -H 'Content-Type: application/json' \\
       -d '{"emails":["new.tech@northwind-it.example"],"type":1}' $base/providers/$PROVIDER_ID/users/invite

Staff routes (\$STAFF) live under /admin/providers. Ctrl-C stops portald.

EOF

exec "$portald" --data-dir "$data_dir" --jwt-secret-file "$secret_file" --address "$address" --port "$port"
