#!/usr/bin/env bash
# End-to-end load: customers walk the whole journey (browse, cart, address,
# order, transfer, slip photo, view orders) with duplicates and echoes mixed
# in; replies are received by the load tool's own fake Graph API.
#   bash benches/journey.sh                  # SQLite, server on core 0, load on core 1
#   CRASHES=20 bash benches/journey.sh       # kill -9 the server 20 times during the run
#   INSTANCES=2 DATABASE_URL=postgres://postgres@127.0.0.1:5432/chatbill_journey bash benches/journey.sh
#   SEND_RATE=250 GRAPH_LIMIT=300 bash benches/journey.sh   # a flood against Meta's per-Page limit
# SEND_RATE is the servers' CHATBILL_SEND_RATE (default off here: the run
# measures capacity, not Meta's cap); GRAPH_LIMIT makes the fake Graph API
# refuse (613) beyond that many calls per Page per second, as Meta does.
# Ends with `chatbill-load check`: every acknowledged event processed once,
# every order consistent, every message delivered; exits non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
# BIN=path runs a given build instead (to compare two builds side by side).
if [ -z "${BIN:-}" ]; then cargo build --release --quiet -p chatbill; BIN=$PWD/target/release/chatbill; fi
# The load generator and its fake Graph API are a separate binary (LOAD=path
# to reuse one build against several servers).
if [ -z "${LOAD:-}" ]; then cargo build --release --quiet -p chatbill-load; LOAD=$PWD/target/release/chatbill-load; fi
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}" $(cat "$dir/pid0" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; [ -n "${sup:-}" ] && kill "$sup" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
[ -n "${KEEP_LOG:-}" ] && trap 'cp $dir/server0.log $KEEP_LOG; cleanup' EXIT
export DATABASE_URL=${DATABASE_URL:-sqlite://$dir/journey.db}
export META_APP_SECRET=bench-app-secret META_VERIFY_TOKEN=bench-verify-token
export CHATBILL_SECRET_KEY=bench-secret-key-0123456789abcdef0123456789
export CHATBILL_SEND_RATE=${SEND_RATE:-off}
export CHATBILL_LOG=${CHATBILL_LOG:-warn} CHATBILL_MEDIA_DIR=$dir/media CHATBILL_ATTACHMENT_HOSTS=127.0.0.1
GRAPH_PORT=${GRAPH_PORT:-18600}
export META_GRAPH_URL=http://127.0.0.1:$GRAPH_PORT/v25.0
INSTANCES=${INSTANCES:-1}
CRASHES=${CRASHES:-0}
page=$((RANDOM * 100000 + RANDOM))
token=$("$BIN" demo --setup-only --page-id "$page" --page-token bench | awk '/^token/ {print $2}')

start() { # instance index → pid
    local i=$1 port=$((18701 + $1))
    if [ "$INSTANCES" = 1 ] && [ "${PIN:-1}" = 1 ]; then
        CHATBILL_BIND=127.0.0.1:$port taskset -c 0 "$BIN" serve >>"$dir/server$i.log" 2>&1 &
    else
        CHATBILL_BIND=127.0.0.1:$port "$BIN" serve >>"$dir/server$i.log" 2>&1 &
    fi
    echo $!
}
wait_up() { for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$((18701 + $1))/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "instance $1 did not start" >&2; return 1; }

urls=""
for i in $(seq 0 $((INSTANCES - 1))); do
    pids[$i]=$(start "$i"); wait_up "$i"
    urls="$urls,http://127.0.0.1:$((18701 + i))"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); database: ${DATABASE_URL%%:*}; instances: $INSTANCES; crashes: $CRASHES; send rate: $CHATBILL_SEND_RATE; Graph limit: ${GRAPH_LIMIT:-none}"

if [ "$CRASHES" -gt 0 ]; then
    # Kill -9 instance 0 at random moments and restart it, $CRASHES times.
    (
        for k in $(seq 1 "$CRASHES"); do
            sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
            p=$(cat "$dir/pid0" 2>/dev/null || echo "${pids[0]}")
            kill -9 "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
            np=$(start 0); echo "$np" >"$dir/pid0"; wait_up 0 || true
            echo "crash $k: killed $p, restarted as $np"
        done
    ) & sup=$!
fi

cpu0=$(awk '{print $14+$15}' /proc/${pids[0]}/stat)
/usr/bin/time -f "load generator CPU: %P" ${PIN_LOAD:-taskset -c 1} "$LOAD" journey --urls "${urls#,}" --page-id "$page" --token "$token" \
    --customers "${CUSTOMERS:-1000}" --concurrency "${CONCURRENCY:-64}" --graph-port "$GRAPH_PORT" --acked-file "$dir/acked.txt" \
    ${GRAPH_LIMIT:+--graph-limit "$GRAPH_LIMIT"}
if [ "$CRASHES" -eq 0 ]; then
    cpu1=$(awk '{print $14+$15}' /proc/${pids[0]}/stat)
    echo "server 0 CPU time: $(( (cpu1 - cpu0) * 1000 / $(getconf CLK_TCK) )) ms; peak RSS $(( $(awk '/VmHWM/ {print $2}' /proc/${pids[0]}/status) / 1024 )) MiB"
else
    wait "$sup" || true
    grep -c "^crash" /dev/null >/dev/null || true
fi
# Let the last replies and slips settle, then check the database.
sleep "${SETTLE:-5}"
"$LOAD" check --acked-file "$dir/acked.txt"
