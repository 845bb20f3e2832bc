#!/usr/bin/env bash
# Hostile traffic against one server while a customer walks the journey
# and a seller confirms a payment (docs/reliability.md, "Hostile clients"):
#   bash benches/hostile.sh
# UPLOADS, STREAMS, METHODS, LOGINS and CUSTOMERS size the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then cargo build --release --quiet -p chatbill; BIN=$PWD/target/release/chatbill; fi
if [ -z "${LOAD:-}" ]; then cargo build --release --quiet -p chatbill-load; LOAD=$PWD/target/release/chatbill-load; fi
dir=$(mktemp -d)
trap 'kill -9 ${server:-} ${attack:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
export DATABASE_URL=sqlite://$dir/hostile.db
export META_APP_SECRET=bench-app-secret META_VERIFY_TOKEN=bench-verify-token
export CHATBILL_SECRET_KEY=bench-secret-key-0123456789abcdef0123456789
export CHATBILL_METRICS_TOKEN=bench-metrics-token-0123456789
export CHATBILL_SEND_RATE=off CHATBILL_LOG=${CHATBILL_LOG:-warn} CHATBILL_MEDIA_DIR=$dir/media CHATBILL_ATTACHMENT_HOSTS=127.0.0.1
GRAPH_PORT=${GRAPH_PORT:-18640}
export META_GRAPH_URL=http://127.0.0.1:$GRAPH_PORT/v25.0
page=$((RANDOM * 100000 + RANDOM))
token=$("$BIN" demo --setup-only --page-id "$page" --page-token bench | awk '/^token/ {print $2}')
base=http://127.0.0.1:18731
CHATBILL_BIND=127.0.0.1:18731 taskset -c 0 "$BIN" serve >"$dir/server.log" 2>&1 & server=$!
for _ in $(seq 1 200); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); database: sqlite"
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$server/status)

taskset -c 1 "$LOAD" hostile --url "$base" --shop 1 --uploads "${UPLOADS:-10000}" --streams "${STREAMS:-5000}" \
    --methods "${METHODS:-100000}" --logins "${LOGINS:-1000}" --concurrency 64 >"$dir/hostile.txt" 2>&1 & attack=$!
sleep 1
# The customer: the whole journey through Messenger, during the attack
# (in the background, so its fake Graph API is up for the seller's push).
taskset -c 1 "$LOAD" journey --urls "$base" --page-id "$page" --token "$token" --customers "${CUSTOMERS:-300}" \
    --concurrency 8 --graph-port "$GRAPH_PORT" --acked-file "$dir/acked.txt" >"$dir/journey.txt" 2>&1 & journey=$!
# The seller: confirm the first payment waiting for review, timed.
order=""
for _ in $(seq 1 300); do
    order=$( (curl -fs -H "Authorization: Bearer $token" "$base/api/v1/orders?tab=pending_review&limit=1" || true) | sed -n 's/.*"orders":\[{[^]]*"id":\([0-9]*\).*/\1/p' | head -1)
    [ -n "$order" ] && break
    sleep 0.1
done
if [ -n "$order" ]; then
    curl -s -o /dev/null -w "seller confirms order $order during the attack: HTTP %{http_code} in %{time_total} s\n" -X POST \
        -H "Authorization: Bearer $token" -H "content-type: application/json" -d '{}' "$base/api/v1/orders/$order/confirm-payment"
else
    echo "seller: no order waiting for review"
fi
wait "$journey"
cat "$dir/journey.txt"
wait "$attack" || true
cat "$dir/hostile.txt"
echo "server RSS: $(( rss_before / 1024 )) MiB before, peak $(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 )) MiB"
echo "uploads kept on disk: $(ls "$dir/media/uploads" 2>/dev/null | wc -l) files, $(du -sk "$dir/media/uploads" 2>/dev/null | cut -f1) KiB"
echo "request metric series: $(curl -fs -H "Authorization: Bearer $CHATBILL_METRICS_TOKEN" "$base/metrics" | grep -c '^chatbill_http_requests_total{')"
sleep 3
"$LOAD" check --acked-file "$dir/acked.txt" --wait-secs 30 | tail -25
