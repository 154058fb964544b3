#!/usr/bin/env bash
# The http suite of scripts/bench.sh: wrk against a Release portald on loopback,
# beside nginx serving the same response body as a static file (the HTTP ceiling
# of this machine), with the same wrk settings in the same run.
#
#   scripts/bench_http.sh [--runs N] [--out FILE] [--dir DIR] [--quick] [--build-dir DIR]
#
# Installs what it needs and the build does not (Debian: wrk, nginx-light, curl,
# jq), loads `portalctl demo` into a fresh data directory with a random HS256
# secret, starts portald (127.0.0.1, --threads 2, --durability sync), mints a
# token for the demo's provider admin and measures, per run:
#   http_get_clients_rps, http_get_clients_p99_ms
#                          GET /providers/{id}/organizations (the demo's 25 clients)
#   nginx_static_rps       nginx serving that exact response body as a file
#   ratio_get_clients_vs_nginx
#                          http_get_clients_rps / nginx_static_rps of the same run
#   http_post_invite_rps   POST /providers/{id}/users/invite, one fresh email a request
#   http_events_page_rps   GET /organizations/{ORG_ID}/events, a full page of 50
# Each figure is the median of N runs. wrk: 2 threads, 64 keep-alive connections,
# 10 s per measurement (2 s with --quick). Any non-2xx response fails the suite.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG="bench_http"

runs=3
runs_given=0
out="${ROOT}/bench-results/http.json"
parent_dir="/tmp"
quick=0
build_dir="${ROOT}/build-release"

usage() {
  cat <<USAGE
usage: scripts/bench_http.sh [--runs N] [--out FILE] [--dir DIR] [--quick] [--build-dir DIR]
  --runs N         runs per figure; each figure is the median (default 3)
  --out FILE       flat JSON object of the results (default bench-results/http.json)
  --dir DIR        where to create the temporary data directory (default /tmp); removed at the end
  --quick          2 s per measurement instead of 10 s, 1 run unless --runs is given
  --build-dir DIR  where portald and portalctl were built (default build-release/)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs)
      if [ $# -lt 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then usage >&2; exit 2; fi
      runs="$2"; runs_given=1; shift 2 ;;
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out="$2"; shift 2 ;;
    --dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; parent_dir="$2"; shift 2 ;;
    --build-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; build_dir="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "${PROG}: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$quick" -eq 1 ] && [ "$runs_given" -eq 0 ]; then runs=1; fi

WRK_THREADS=2
WRK_CONNECTIONS=64
SERVER_THREADS=2
if [ "$quick" -eq 1 ]; then DURATION=2; WARMUP=1; else DURATION=10; WARMUP=2; fi

PORTALD="${build_dir}/api/portald"
PORTALCTL="${build_dir}/api/portalctl"

say() { echo "${PROG}: $*" >&2; }

# ---------------------------------------------------------------------------
# Bench-only dependencies (not in scripts/setup.sh: the build does not need them).

have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

install_missing() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  have_nginx || missing+=(nginx-light)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "need root (or sudo) to install: ${missing[*]}"; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    # Older or newer releases name the small build differently; plain nginx will do.
    local fallback=("${missing[@]/nginx-light/nginx}")
    $sudo apt-get install -y -qq --no-install-recommends "${fallback[@]}"
  fi
}

install_missing
NGINX="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
for exe in "$PORTALD" "$PORTALCTL"; do
  [ -x "$exe" ] || { say "missing $exe (scripts/bench.sh http builds it)"; exit 1; }
done

# ---------------------------------------------------------------------------
# Temporary directory, processes, cleanup

mkdir -p "$parent_dir"
TMP="$(mktemp -d "${parent_dir%/}/http-bench-XXXXXX")"
PORTALD_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  [ -n "$PORTALD_PID" ] && kill -TERM "$PORTALD_PID" 2>/dev/null && wait "$PORTALD_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  say "$*"
  if [ -s "$TMP/portald.err" ]; then
    say "last lines of portald's log:"; tail -n 5 "$TMP/portald.err" >&2
  fi
  exit 1
}

say "${runs} run$([ "$runs" -eq 1 ] || echo s) of ${DURATION} s per figure, data under ${TMP}"

DATA="$TMP/data"
mkdir -p "$DATA" "$TMP/www" "$TMP/nginx"
# 32 random bytes as 64 hex characters: no whitespace for the secret's trimming to eat.
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$DATA/jwt.secret"
chmod 600 "$DATA/jwt.secret"

say "loading the demo (untimed)"
"$PORTALCTL" demo --data-dir "$DATA" > "$TMP/demo.log" 2>&1 || { cat "$TMP/demo.log" >&2; die "portalctl demo failed"; }
# shellcheck disable=SC1091
. "$DATA/demo.env"
for v in PROVIDER_ID ADMIN_USER_ID ADMIN_EMAIL ORG_ID; do
  [ -n "${!v:-}" ] || die "demo.env has no $v"
done
TOKEN="$("$PORTALCTL" token --data-dir "$DATA" --user "$ADMIN_USER_ID" --email "$ADMIN_EMAIL" \
  --name "${ADMIN_NAME:-Bench Admin}" --ttl 12h)" || die "portalctl token failed"

# portald's access log (one JSON line a request) goes to a file opened for
# appending, emptied after each measurement so that it does not fill the disk.
"$PORTALD" --data-dir "$DATA" --jwt-secret-file "$DATA/jwt.secret" --address 127.0.0.1 --port 0 \
  --threads "$SERVER_THREADS" --durability sync > "$TMP/portald.out" 2>> "$TMP/portald.err" &
PORTALD_PID=$!
BASE=""
for _ in $(seq 1 300); do
  kill -0 "$PORTALD_PID" 2>/dev/null || die "portald exited at start"
  BASE="$(sed -n 's/^portald: listening on \(http:\/\/[^ ]*\).*/\1/p' "$TMP/portald.out" | head -n 1)"
  [ -n "$BASE" ] && break
  sleep 0.1
done
[ -n "$BASE" ] || die "portald did not say where it listens"
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = "200" ] && break
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = "200" ] || die "portald is not healthy at $BASE"
say "portald at $BASE (pid $PORTALD_PID)"

CLIENTS_PATH="/providers/${PROVIDER_ID}/organizations"
INVITE_PATH="/providers/${PROVIDER_ID}/users/invite"
EVENTS_PATH="/organizations/${ORG_ID}/events"

# The exact body nginx will serve, and checks that each request does real work.
ctype="$(curl -s -o "$TMP/www/clients.json" -w '%{http_code} %{content_type}' \
  -H "Authorization: Bearer $TOKEN" "$BASE$CLIENTS_PATH")"
[ "${ctype%% *}" = "200" ] || { cat "$TMP/www/clients.json" >&2; die "GET $CLIENTS_PATH: status ${ctype%% *}"; }
CONTENT_TYPE="${ctype#* }"
n_clients="$(jq '.data | length' "$TMP/www/clients.json")"
[ "$n_clients" -eq 25 ] || die "GET $CLIENTS_PATH lists $n_clients clients, expected the demo's 25"
CLIENTS_BYTES="$(stat -c %s "$TMP/www/clients.json")"

events_status="$(curl -s -o "$TMP/events.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$EVENTS_PATH")"
[ "$events_status" = "200" ] || { cat "$TMP/events.json" >&2; die "GET $EVENTS_PATH: status $events_status"; }
n_events="$(jq '.data | length' "$TMP/events.json")"
if [ "$n_events" -lt 50 ]; then
  # The demo's ORG_ID has about 40 events: invite members to it (untimed) until its
  # first page is full, so that each measured request reads and writes 50 entries.
  emails="$(seq 1 $((60 - n_events)) | sed 's/.*/"pad&@bench.example"/' | paste -sd, -)"
  pad_status="$(curl -s -o "$TMP/pad.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"emails\":[${emails}],\"type\":2}" \
    "$BASE/organizations/${ORG_ID}/users/invite")"
  [ "${pad_status:0:1}" = "2" ] || { cat "$TMP/pad.json" >&2; die "inviting members to ${ORG_ID}: status $pad_status"; }
  say "the demo's ORG_ID had ${n_events} events; invited $((60 - n_events)) members to it (untimed)"
  curl -s -o "$TMP/events.json" -H "Authorization: Bearer $TOKEN" "$BASE$EVENTS_PATH"
  n_events="$(jq '.data | length' "$TMP/events.json")"
fi
[ "$n_events" -eq 50 ] || die "GET $EVENTS_PATH returns $n_events events, expected a full page of 50"
EVENTS_BYTES="$(stat -c %s "$TMP/events.json")"

invite_status="$(curl -s -o "$TMP/invite.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"emails":["probe@bench.example"],"type":1}' "$BASE$INVITE_PATH")"
[ "${invite_status:0:1}" = "2" ] || { cat "$TMP/invite.json" >&2; die "POST $INVITE_PATH: status $invite_status"; }
[ "$(jq -r '.data[0].error' "$TMP/invite.json")" = "" ] || { cat "$TMP/invite.json" >&2; die "the probe invitation failed"; }
say "GET clients: 25 clients, ${CLIENTS_BYTES} bytes, ${CONTENT_TYPE}; events page: 50 events, ${EVENTS_BYTES} bytes"

# ---------------------------------------------------------------------------
# nginx: the same body as a static file on another loopback port.

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NGINX_PORT=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 40000))
  if port_free "$p"; then NGINX_PORT="$p"; break; fi
done
[ -n "$NGINX_PORT" ] || die "no free port for nginx"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
cat > "$TMP/nginx/nginx.conf" <<CONF
${user_line}
worker_processes 2;
daemon off;
pid ${TMP}/nginx/nginx.pid;
error_log ${TMP}/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_temp_path ${TMP}/nginx/client_body;
  proxy_temp_path ${TMP}/nginx/proxy;
  fastcgi_temp_path ${TMP}/nginx/fastcgi;
  uwsgi_temp_path ${TMP}/nginx/uwsgi;
  scgi_temp_path ${TMP}/nginx/scgi;
  server {
    listen 127.0.0.1:${NGINX_PORT};
    root ${TMP}/www;
    location = ${CLIENTS_PATH} {
      types { }
      default_type "${CONTENT_TYPE}";
      try_files /clients.json =404;
    }
  }
}
CONF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" > "$TMP/nginx/stdout" 2>&1 &
NGINX_PID=$!
NGINX_BASE="http://127.0.0.1:${NGINX_PORT}"
for _ in $(seq 1 100); do
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/nginx/stdout" "$TMP/nginx/error.log" >&2 2>/dev/null; die "nginx exited at start"; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$NGINX_BASE$CLIENTS_PATH")" = "200" ] && break
  sleep 0.1
done
curl -s -o "$TMP/nginx-body.json" "$NGINX_BASE$CLIENTS_PATH" || die "nginx does not answer at $NGINX_BASE"
cmp -s "$TMP/nginx-body.json" "$TMP/www/clients.json" || die "nginx does not serve the same body"
say "nginx at $NGINX_BASE (pid $NGINX_PID), same body, Content-Type ${CONTENT_TYPE}"

# ---------------------------------------------------------------------------
# wrk scripts: the token, the POST body, and a machine-readable summary line.

cat > "$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
LUA
cat > "$TMP/get.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
LUA
cat "$TMP/report.lua" >> "$TMP/get.lua"
cat > "$TMP/post.lua" <<'LUA'
-- One fresh email a request: u<tag>-<thread>-<counter>@bench.example.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local tag = os.getenv("BENCH_TAG") or "0"
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"emails":["u%s-%d-%d@bench.example"],"type":1}', tag, tid or 0, counter)
  return wrk.format(nil, nil, nil, body)
end
-- Responses by status, per thread (each thread has its own Lua state); done sums them.
statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
LUA
cat "$TMP/report.lua" >> "$TMP/post.lua"
cat >> "$TMP/post.lua" <<'LUA'
local report = done
done = function(summary, latency, requests)
  report(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, status .. ":" .. n) end
  table.sort(parts)
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end
LUA

# run_wrk NAME SCRIPT URL SECONDS TAG: sets REQ RPS P99_MS; fails on any error response.
run_wrk() {
  local name="$1" script="$2" url="$3" secs="$4" tag="$5"
  local log="$TMP/wrk-${name}.log"
  BENCH_TOKEN="$TOKEN" BENCH_TAG="$tag" wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${secs}s" \
    --latency -s "$script" "$url" > "$log" 2>&1 || { cat "$log" >&2; die "wrk failed ($name)"; }
  local line
  line="$(grep '^BENCH ' "$log" | tail -n 1)"
  [ -n "$line" ] || { cat "$log" >&2; die "no summary from wrk ($name)"; }
  local requests duration p99 non2xx sock
  requests="$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")"
  duration="$(sed -n 's/.* duration_us=\([0-9]*\).*/\1/p' <<<"$line")"
  p99="$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")"
  non2xx="$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$line")"
  sock="$(awk '{for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] ~ /^(connect|read|write|timeout)$/) s += kv[2] } print s + 0}' <<<"$line")"
  if [ "$requests" -eq 0 ]; then cat "$log" >&2; die "$name: no request completed"; fi
  # Conflicts (409: the engine's optimistic-concurrency retries ran out, every
  # invitation appends to the one provider stream) are the server's answer under
  # this load, not a broken setup: counted apart and left out of the rate. Any
  # other non-2xx fails the suite.
  CONFLICTS=0
  local statuses
  statuses="$(grep '^STATUSES ' "$log" | tail -n 1 || true)"
  if [ -n "$statuses" ]; then
    CONFLICTS="$(awk '{for (i = 2; i <= NF; i++) { split($i, kv, ":"); if (kv[1] == "409") c += kv[2] } print c + 0}' <<<"$statuses")"
    local others
    others="$(awk '{for (i = 2; i <= NF; i++) { split($i, kv, ":"); if (kv[1] !~ /^2/ && kv[1] != "409") o += kv[2] } print o + 0}' <<<"$statuses")"
    if [ "$others" -ne 0 ]; then
      cat "$log" >&2
      die "$name: responses by status: ${statuses#STATUSES }; figures of error responses are worthless"
    fi
    if [ "$CONFLICTS" -ne 0 ]; then
      say "$name: WARNING: ${CONFLICTS} of ${requests} responses were 409 (conflict, retries exhausted); the rate counts 2xx only"
    fi
  elif [ "$non2xx" -ne 0 ]; then
    cat "$log" >&2
    die "$name: ${non2xx} of ${requests} responses were not 2xx; figures of error responses are worthless"
  fi
  if [ $((sock * 100)) -gt "$requests" ]; then
    cat "$log" >&2; die "$name: ${sock} socket errors in ${requests} requests"
  elif [ "$sock" -ne 0 ]; then
    say "$name: note: ${sock} socket errors (connect/read/write/timeout) in ${requests} requests"
  fi
  : > "$TMP/portald.err"  # checked: the access log of this measurement is no longer needed
  CONFLICT_PCT="$(awk -v n="$requests" -v c="$CONFLICTS" 'BEGIN { printf "%.2f", 100 * c / n }')"
  requests=$((requests - CONFLICTS))
  REQ="$requests"
  RPS="$(awk -v n="$requests" -v us="$duration" 'BEGIN { printf "%.1f", n / (us / 1e6) }')"
  P99_MS="$(awk -v us="$p99" 'BEGIN { printf "%.3f", us / 1000 }')"
}

declare -A SAMPLES=()
record() {  # record KEY VALUE
  SAMPLES[$1]="${SAMPLES[$1]:-} $2"
  printf '    %-40s %14s\n' "$1" "$2" >&2
}
median() {  # median KEY
  tr ' ' '\n' <<<"${SAMPLES[$1]}" | grep -v '^$' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

say "warming up (${WARMUP} s each, unmeasured)"
run_wrk warm-get "$TMP/get.lua" "$BASE$CLIENTS_PATH" "$WARMUP" w
run_wrk warm-nginx "$TMP/get.lua" "$NGINX_BASE$CLIENTS_PATH" "$WARMUP" w
run_wrk warm-events "$TMP/get.lua" "$BASE$EVENTS_PATH" "$WARMUP" w

invites=0
for run in $(seq 1 "$runs"); do
  echo "[run ${run}/${runs}] http_get_clients_rps, http_get_clients_p99_ms" >&2
  run_wrk get-clients "$TMP/get.lua" "$BASE$CLIENTS_PATH" "$DURATION" "r$run"
  get_rps="$RPS"
  record http_get_clients_rps "$RPS"
  record http_get_clients_p99_ms "$P99_MS"
  echo "[run ${run}/${runs}] nginx_static_rps" >&2
  run_wrk nginx "$TMP/get.lua" "$NGINX_BASE$CLIENTS_PATH" "$DURATION" "r$run"
  record nginx_static_rps "$RPS"
  record ratio_get_clients_vs_nginx "$(awk -v a="$get_rps" -v b="$RPS" 'BEGIN { printf "%.4f", a / b }')"
  echo "[run ${run}/${runs}] http_post_invite_rps (sync durability)" >&2
  run_wrk invite "$TMP/post.lua" "$BASE$INVITE_PATH" "$DURATION" "r$run"
  invites=$((invites + REQ))
  record http_post_invite_rps "$RPS"
  record http_post_invite_conflict_pct "$CONFLICT_PCT"
  echo "[run ${run}/${runs}] http_events_page_rps" >&2
  run_wrk events "$TMP/get.lua" "$BASE$EVENTS_PATH" "$DURATION" "r$run"
  record http_events_page_rps "$RPS"
  record http_events_page_p99_ms "$P99_MS"
done

# The invitations were real: the last one is in the provider's users.
last_status="$(curl -s -o "$TMP/users.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "$BASE/providers/${PROVIDER_ID}/users")"
if [ "$last_status" = "200" ]; then
  say "provider users after the runs: $(jq '.data | length' "$TMP/users.json") (${invites} invitations answered 2xx while measured, besides requests in flight at each end)"
fi

# ---------------------------------------------------------------------------
# Report

declare -A M=()
for k in "${!SAMPLES[@]}"; do M[$k]="$(median "$k")"; done
M[clients]=25
M[clients_body_bytes]="$CLIENTS_BYTES"
M[events_page_size]="$n_events"
M[events_page_bytes]="$EVENTS_BYTES"
M[wrk_threads]="$WRK_THREADS"
M[wrk_connections]="$WRK_CONNECTIONS"
M[wrk_duration_s]="$DURATION"
M[server_threads]="$SERVER_THREADS"
M[runs]="$runs"
M[quick]="$quick"

fmt_int() { awk -v v="$1" 'BEGIN { n = sprintf("%.0f", v); s = ""; while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) } print n s }'; }
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
# verdict KEY OP BOUND
verdict() { awk -v v="${M[$1]}" -v op="$2" -v b="$3" 'BEGIN { ok = (op == ">=") ? v >= b : v <= b; print ok ? "PASS" : "FAIL" }'; }

rows=(
  "figure|ours|nginx static|ratio|target|result"
  "http_get_clients_rps|$(fmt_int "${M[http_get_clients_rps]}")|$(fmt_int "${M[nginx_static_rps]}")|$(fmt2 "${M[ratio_get_clients_vs_nginx]}")|||"
  "ratio_get_clients_vs_nginx|$(fmt2 "${M[ratio_get_clients_vs_nginx]}")|||>= 0.5|$(verdict ratio_get_clients_vs_nginx '>=' 0.5)"
  "http_get_clients_p99_ms|$(fmt2 "${M[http_get_clients_p99_ms]}")|||<= 5|$(verdict http_get_clients_p99_ms '<=' 5)"
  "http_post_invite_rps|$(fmt_int "${M[http_post_invite_rps]}")|||>= 5,000|$(verdict http_post_invite_rps '>=' 5000)"
  "http_post_invite_conflict_pct|$(fmt2 "${M[http_post_invite_conflict_pct]}")||||"
  "http_events_page_rps|$(fmt_int "${M[http_events_page_rps]}")|||>= 10,000|$(verdict http_events_page_rps '>=' 10000)"
  "http_events_page_p99_ms|$(fmt2 "${M[http_events_page_p99_ms]}")||||"
)
met=0
for r in "${rows[@]:2}"; do [[ "$r" == *"|PASS" ]] && met=$((met + 1)); done

echo
echo "bench_http: median of ${runs} run$([ "$runs" -eq 1 ] || echo s); wrk ${WRK_THREADS} threads, ${WRK_CONNECTIONS} keep-alive connections, ${DURATION} s; portald --threads ${SERVER_THREADS}"
echo
printf '%s\n' "${rows[@]}" | awk -F'|' '
  { n = NR; for (i = 1; i <= 6; i++) { c[n, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
  END {
    for (r = 1; r <= n; r++) {
      printf "%-*s  %*s  %*s  %*s  %-*s  %s\n", w[1], c[r,1], w[2], c[r,2], w[3], c[r,3], w[4], c[r,4], w[5], c[r,5], c[r,6]
      if (r == 1) { t = 0; for (i = 1; i <= 6; i++) t += w[i] + 2; s = sprintf("%*s", t, ""); gsub(/ /, "-", s); print s }
    }
  }'
echo
echo "${met} of 4 targets met."

order=(http_get_clients_rps http_get_clients_p99_ms nginx_static_rps ratio_get_clients_vs_nginx
  http_post_invite_rps http_post_invite_conflict_pct http_events_page_rps http_events_page_p99_ms clients clients_body_bytes
  events_page_size events_page_bytes wrk_threads wrk_connections wrk_duration_s server_threads runs quick)
mkdir -p "$(dirname "$out")"
{
  echo "{"
  for i in "${!order[@]}"; do
    k="${order[$i]}"
    v="$(awk -v v="${M[$k]}" 'BEGIN { if (v == int(v) || v >= 1000) printf "%.0f", v; else if (v >= 100) printf "%.1f", v; else printf "%.4g", v }')"
    sep=","; [ "$i" -eq $((${#order[@]} - 1)) ] && sep=""
    echo "  \"${k}\": ${v}${sep}"
  done
  echo "}"
} > "$out"
say "wrote $out"
