#!/usr/bin/env bash
# Integration smoke test of the x2s3 process model behind a real nginx, one scenario per check:
#   A  under spawn-fcgi (listening socket on fd 0), one worker;
#   B  own pool: --socket unix:… and tcp:… with --workers N (respawn, SIGHUP, drain, SIGTERM);
#   C  plain CGI (environment in, stdout out);
# plus the client-abort check (the worker survives, its open-fd count is unchanged).
# It needs the stub or real dispatcher to answer `hello <REQUEST_URI>` and stream 64 MiB at /big.
#
# usage: scripts/fcgi-smoke.sh [path/to/x2s3]     (default .build/debug/x2s3)
# Only 127.0.0.1 is used. Every process started here is stopped by PID on exit, even on failure.
set -uo pipefail

BIN=$(realpath "${1:-.build/debug/x2s3}")
TMP=$(mktemp -d /tmp/x2s3-smoke.XXXXXX)
STARTED=()          # PIDs this script started (pools, spawn-fcgi worker, nginx)
PASS=0
FAIL=0

cleanup() {
    local pid workers=() deadline=$((SECONDS + 3))
    # Pools' workers are recorded first, so they can be killed even if their parent is gone.
    for pid in "${STARTED[@]}"; do workers+=($(children_of "$pid")); done
    for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    while alive_any "${STARTED[@]}" "${workers[@]}" && ((SECONDS < deadline)); do sleep 0.1; done
    for pid in "${STARTED[@]}" "${workers[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    [[ ${KEEP_TMP:-} ]] || rm -rf "$TMP"
}
trap cleanup EXIT

ok()   { PASS=$((PASS + 1)); echo "ok - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "not ok - $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }

children_of() { cat "/proc/$1/task/$1/children" 2>/dev/null; }
alive()       { kill -0 "$1" 2>/dev/null; }
alive_any()   { local p; for p; do alive "$p" && return 0; done; return 1; }
fd_count()    { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
free_port()   { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_until SECONDS COMMAND…: polls every 50 ms.
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        ((SECONDS >= deadline)) && return 1
        sleep 0.05
    done
}
gone() { ! alive "$1"; }
child_count_is() { [[ $(children_of "$1" | wc -w) -eq $2 ]]; }

# get PORT PATH → prints the body; fails on a non-200 answer.
get() { curl -sS --max-time 5 -f "http://127.0.0.1:$1$2"; }
expect_body() { local body; body=$(get "$1" "$2") && [[ $body == "$3" ]]; }

# Aborts a slow download of /big after 1 s, then checks that every worker in PIDS… is alive with
# the same fd count and the next request still succeeds.
abort_check() {
    local label=$1 port=$2; shift 2
    local pid before=() i=0
    for pid in "$@"; do before+=("$(fd_count "$pid")"); done
    curl -s --limit-rate 2M --max-time 1 "http://127.0.0.1:$port/big" -o /dev/null
    check "$label: the slow /big download was cut by the client (curl timeout)" test $? -eq 28
    sleep 0.3
    for pid in "$@"; do
        check "$label: worker $pid survives a client abort mid-stream" alive "$pid"
        check "$label: worker $pid fd count unchanged (${before[i]})" test "$(fd_count "$pid")" -eq "${before[i]}"
        i=$((i + 1))
    done
    check "$label: request after the abort succeeds" expect_body "$port" /after-abort "hello /after-abort"
}

PORT_A=$(free_port); PORT_B=$(free_port); PORT_C=$(free_port); PORT_T=$(free_port)
PORT_6=$(free_port); PORT_T6=$(free_port)
HAVE_V6=""; ip -6 addr show dev lo 2>/dev/null | grep -q "inet6 ::1/128" && HAVE_V6=1
mkdir -p "$TMP/nginx"
USER_LINE=""
[[ $(id -u) -eq 0 ]] && USER_LINE="user root;"   # workers must reach the 0660 sockets

server_block() {  # PORT FASTCGI_PASS
    cat <<EOF
    server {
        listen 127.0.0.1:$1;
        location / {
            fastcgi_pass $2;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param REQUEST_URI \$request_uri;
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param SCRIPT_NAME "";
            fastcgi_param SERVER_PROTOCOL \$server_protocol;
            fastcgi_param HTTP_HOST \$http_host;
            # In-memory buffers only, as in production: a slow client then holds the worker, so a
            # client abort reaches the worker as a failed write (the case under test).
            fastcgi_buffer_size 64k;
            fastcgi_buffers 4 64k;
            fastcgi_max_temp_file_size 0;
        }
    }
EOF
}

cat >"$TMP/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    proxy_temp_path $TMP/nginx/proxy;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
$(server_block "$PORT_A" "unix:$TMP/spawn.sock")
$(server_block "$PORT_B" "unix:$TMP/pool.sock")
$(server_block "$PORT_C" "127.0.0.1:$PORT_T")
$([[ $HAVE_V6 ]] && server_block "$PORT_6" "[::1]:$PORT_T6")
}
EOF

echo "# x2s3 smoke: $BIN (tmp $TMP)"
echo "log_level: INFO" >"$TMP/config.yaml"
nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx.conf" &
NGINX=$!; STARTED+=("$NGINX")

# ---- startup and CLI ---------------------------------------------------------------------------
out=$("$BIN" --config "$TMP/config.yaml" --check-config 2>&1)
check "--check-config prints a summary" test "$out" = "config OK: 0 targets"
out=$("$BIN" --config "$TMP/nope.yaml" --check-config 2>&1); rc=$?
check "missing config: one 'x2s3:' line, non-zero exit" \
    test $rc -ne 0 -a "$(wc -l <<<"$out")" -eq 1 -a "${out#x2s3: }" != "$out"
out=$("$BIN" --config "$TMP/config.yaml" --socket bogus:1 2>&1); rc=$?
check "bad --socket: one 'x2s3:' line, non-zero exit" test $rc -ne 0 -a "$(wc -l <<<"$out")" -eq 1
out=$("$BIN" --config "$TMP/config.yaml" </dev/null 2>&1); rc=$?
check "no listener and no CGI environment: refuses with one line" test $rc -ne 0 -a "$(wc -l <<<"$out")" -eq 1

# ---- mode C: CGI -------------------------------------------------------------------------------
out=$(env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI='/b/k%20y?x=1' \
    SERVER_PROTOCOL=HTTP/1.1 X2S3_CONFIG="$TMP/config.yaml" "$BIN" </dev/null | od -An -c | tr -s ' \n' ' ')
want=$(printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello /b/k%%20y?x=1' | od -An -c | tr -s ' \n' ' ')
check "CGI: status line, headers and body on stdout" test "$out" = "$want"
bytes=$(env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_URI=/big X2S3_CONFIG="$TMP/config.yaml" "$BIN" </dev/null | head -c 100000 | wc -c)
check "CGI: a reader closing stdout early does not hang the program" test "$bytes" -eq 100000

wait_until 5 test -e "$TMP/nginx/nginx.pid" || fail "nginx started" "$(cat "$TMP/nginx/error.log")"

# ---- mode A: spawn-fcgi, one worker on fd 0 ----------------------------------------------------
spawn-fcgi -n -s "$TMP/spawn.sock" -- "$BIN" --config "$TMP/config.yaml" 2>>"$TMP/spawn.log" &
SPAWNED=$!; STARTED+=("$SPAWNED")
wait_until 5 test -S "$TMP/spawn.sock"
check "spawn-fcgi: GET answers" expect_body "$PORT_A" "/a/hello?q=1" "hello /a/hello?q=1"
abort_check "spawn-fcgi" "$PORT_A" "$SPAWNED"
kill -TERM "$SPAWNED"
check "spawn-fcgi: SIGTERM ends the worker within 2 s" wait_until 2 gone "$SPAWNED"
wait "$SPAWNED"; rc=$?
check "spawn-fcgi: worker exit status 0 after SIGTERM" test $rc -eq 0

# ---- mode A with --workers: a pool on spawn-fcgi's fd 0 ----------------------------------------
rm -f "$TMP/spawn.sock"
spawn-fcgi -n -s "$TMP/spawn.sock" -- "$BIN" --config "$TMP/config.yaml" --workers 2 2>>"$TMP/spawn.log" &
SPAWNED=$!; STARTED+=("$SPAWNED")
wait_until 5 child_count_is "$SPAWNED" 2
check "spawn-fcgi pool: GET answers" expect_body "$PORT_A" /a/pool "hello /a/pool"
victim=$(children_of "$SPAWNED" | awk '{print $1}')
kill -KILL "$victim"
wait_until 5 eval '[[ $(children_of "$SPAWNED" | wc -w) -eq 2 && " $(children_of "$SPAWNED") " != *" $victim "* ]]'
check "spawn-fcgi pool: a SIGKILLed worker is respawned" test "$(children_of "$SPAWNED" | wc -w)" -eq 2
check "spawn-fcgi pool: request after the respawn succeeds" expect_body "$PORT_A" /a/again "hello /a/again"
kill -TERM "$SPAWNED"
check "spawn-fcgi pool: SIGTERM ends it within 2 s" wait_until 2 gone "$SPAWNED"

# ---- mode B: own pool on a unix socket ---------------------------------------------------------
"$BIN" --config "$TMP/config.yaml" --socket "unix:$TMP/pool.sock" --workers 2 2>>"$TMP/pool.log" &
POOL=$!; STARTED+=("$POOL")
wait_until 5 child_count_is "$POOL" 2
check "pool: socket created with mode 660" test "$(stat -c %a "$TMP/pool.sock" 2>/dev/null)" = 660
check "pool: GET answers" expect_body "$PORT_B" /b/hello "hello /b/hello"
# shellcheck disable=SC2046
abort_check "pool" "$PORT_B" $(children_of "$POOL")

victim=$(children_of "$POOL" | awk '{print $1}')
kill -KILL "$victim"
wait_until 5 eval '[[ $(children_of "$POOL" | wc -w) -eq 2 && " $(children_of "$POOL") " != *" $victim "* ]]'
check "pool: a SIGKILLed worker is respawned" test "$(children_of "$POOL" | wc -w)" -eq 2
check "pool: request after the respawn succeeds" expect_body "$PORT_B" /b/respawned "hello /b/respawned"

before=" $(children_of "$POOL") "
kill -HUP "$POOL"
replaced() { local now; now=$(children_of "$POOL"); [[ $(wc -w <<<"$now") -eq 2 ]] || return 1
    for p in $now; do [[ $before == *" $p "* ]] && return 1; done; return 0; }
check "pool: SIGHUP replaces every worker (new PIDs)" wait_until 5 replaced
check "pool: requests keep working after SIGHUP" expect_body "$PORT_B" /b/reloaded "hello /b/reloaded"

echo "!invalid" >>"$TMP/config.yaml"
before=$(children_of "$POOL")
kill -HUP "$POOL"; sleep 0.5
check "pool: SIGHUP with a bad config keeps the workers" test "$(children_of "$POOL")" = "$before"
check "pool: bad reload is logged as one error" grep -q "config reload failed" "$TMP/pool.log"
check "pool: requests keep working after a failed reload" expect_body "$PORT_B" /b/still "hello /b/still"
echo "log_level: INFO" >"$TMP/config.yaml"

# Drain: SIGTERM during a ~1.5 s download; the download must complete, then the pool exits.
curl -s --limit-rate 48M --max-time 10 "http://127.0.0.1:$PORT_B/big" -o "$TMP/drained" &
CURL=$!
sleep 0.4
workers=$(children_of "$POOL")
kill -TERM "$POOL"
wait "$CURL"
check "pool: SIGTERM lets the in-flight download finish (64 MiB)" test "$(stat -c %s "$TMP/drained")" -eq $((64 << 20))
check "pool: exits within 2 s after the drain" wait_until 2 gone "$POOL"
wait "$POOL"; rc=$?
check "pool: exit status 0" test $rc -eq 0
check "pool: socket file removed" test ! -e "$TMP/pool.sock"
for w in $workers; do check "pool: worker $w gone" gone "$w"; done

# Idle SIGTERM: everything gone within 2 s.
"$BIN" --config "$TMP/config.yaml" --socket "unix:$TMP/pool.sock" --workers 3 2>>"$TMP/pool.log" &
POOL=$!; STARTED+=("$POOL")
wait_until 5 child_count_is "$POOL" 3
workers=$(children_of "$POOL")
kill -TERM "$POOL"
check "pool (idle): SIGTERM ends pool and workers within 2 s" wait_until 2 eval 'gone $POOL && ! alive_any $workers'
check "pool (idle): socket file removed" test ! -e "$TMP/pool.sock"

# ---- mode B: own pool on TCP -------------------------------------------------------------------
"$BIN" --config "$TMP/config.yaml" --socket "tcp:127.0.0.1:$PORT_T" --workers 1 2>>"$TMP/pool.log" &
TCP_POOL=$!; STARTED+=("$TCP_POOL")
wait_until 5 child_count_is "$TCP_POOL" 1
check "tcp pool: GET answers" expect_body "$PORT_C" /c/hello "hello /c/hello"
out=$("$BIN" --config "$TMP/config.yaml" --socket "tcp:127.0.0.1:$PORT_T" 2>&1); rc=$?
check "tcp pool: a taken port is one 'x2s3:' line and a non-zero exit" \
    test $rc -ne 0 -a "$(wc -l <<<"$out")" -eq 1 -a "${out#x2s3: }" != "$out"
kill -TERM "$TCP_POOL"
check "tcp pool: SIGTERM ends it within 2 s" wait_until 2 gone "$TCP_POOL"

if [[ $HAVE_V6 ]]; then
    "$BIN" --config "$TMP/config.yaml" --socket "tcp6:[::1]:$PORT_T6" --workers 1 2>>"$TMP/pool.log" &
    V6_POOL=$!; STARTED+=("$V6_POOL")
    wait_until 5 child_count_is "$V6_POOL" 1
    check "tcp6 pool: GET answers" expect_body "$PORT_6" /v6/hello "hello /v6/hello"
    kill -TERM "$V6_POOL"
    check "tcp6 pool: SIGTERM ends it within 2 s" wait_until 2 gone "$V6_POOL"
else
    echo "# skipped tcp6: no ::1 on lo"
fi

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
