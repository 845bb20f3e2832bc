#!/usr/bin/env bash
# Webhook intake benchmark (docs/benchmarks.md).
# The server is pinned to core 0 and the load generator to core 1 (set
# PIN=0 to let both float). SQLite is durable: WAL, synchronous=FULL, group
# commit. WORKERS=on also runs the engine and the outbox on the same core.
#   bash benches/intake.sh                      # SQLite, intake only
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bash benches/intake.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# BIN=path runs a given build instead (to compare two builds side by side).
if [ -z "${BIN:-}" ]; then cargo build --release --quiet -p chatbill; BIN=$PWD/target/release/chatbill; fi
# The load generator and its fake Graph API are a separate binary (LOAD=path
# to reuse one build against several servers).
if [ -z "${LOAD:-}" ]; then cargo build --release --quiet -p chatbill-load; LOAD=$PWD/target/release/chatbill-load; fi
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
export DATABASE_URL=${DATABASE_URL:-sqlite://$dir/bench.db}
export META_APP_SECRET=bench-app-secret META_VERIFY_TOKEN=bench-verify-token
export CHATBILL_SECRET_KEY=bench-secret-key-0123456789abcdef0123456789
export CHATBILL_BIND=127.0.0.1:18555 CHATBILL_LOG=warn CHATBILL_WORKERS=${WORKERS:-off}
export CHATBILL_MEDIA_DIR=$dir/media
page=$((RANDOM * 100000 + RANDOM))
"$BIN" shop create --name bench --currency THB --page-id "$page" --page-token bench >/dev/null
if [ "${PIN:-1}" = 1 ]; then server=(taskset -c 0 "$BIN"); load=(taskset -c 1 "$LOAD"); else server=("$BIN"); load=("$LOAD"); fi
"${server[@]}" serve & pid=$!
for _ in $(seq 1 100); do curl -fs "http://$CHATBILL_BIND/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); database: ${DATABASE_URL%%:*}; workers: $CHATBILL_WORKERS; pinned: ${PIN:-1}"
cpu_before=$(awk '{print $14+$15}' /proc/$pid/stat)
/usr/bin/time -f "load generator CPU: %P" "${load[@]}" intake --url "http://$CHATBILL_BIND/webhooks/messenger" --page-id "$page" \
    --concurrency "${CONCURRENCY:-64}" --seconds "${SECONDS_RUN:-10}"
cpu_after=$(awk '{print $14+$15}' /proc/$pid/stat)
echo "server CPU: $(( (cpu_after - cpu_before) * 100 / $(getconf CLK_TCK) / ${SECONDS_RUN:-10} ))% of one core"
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "server peak RSS: $((rss / 1024)) MiB"

# The same load against a minimal reference server on the same core, in the
# same run: it reads each body and answers 200, nothing else. chatbill's
# figure is reported as a share of it.
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
if [ "${PIN:-1}" = 1 ]; then ref=(taskset -c 0 "$LOAD"); else ref=("$LOAD"); fi
"${ref[@]}" reference --bind 127.0.0.1:18556 & refpid=$!
trap 'kill $pid $refpid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs -X POST "http://127.0.0.1:18556/webhooks/messenger" >/dev/null 2>&1 && break; sleep 0.1; done
echo "reference server (reads the body, answers 200):"
"${load[@]}" intake --url "http://127.0.0.1:18556/webhooks/messenger" --page-id "$page" \
    --concurrency "${CONCURRENCY:-64}" --seconds "${SECONDS_RUN:-10}"
