#!/usr/bin/env bash
# Instructions per webhook, counted by callgrind: repeatable on a noisy VM
# where requests per second are not. The server (workers off) runs under
# valgrind twice, for 4 s and for 12 s of the intake load; the difference
# in instructions over the difference in requests leaves start-up out.
#   bash benches/intake_instructions.sh target/release/chatbill
#   bash benches/intake_instructions.sh /path/to/another/build   # to compare
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: intake_instructions.sh PATH_TO_CHATBILL}
if [ -z "${LOAD:-}" ]; then cargo build --release --quiet -p chatbill-load; LOAD=$PWD/target/release/chatbill-load; fi
run() { # seconds → "instructions events"
  dir=$(mktemp -d)
  export DATABASE_URL=sqlite://$dir/b.db META_APP_SECRET=bench-app-secret META_VERIFY_TOKEN=bench-verify-token
  export CHATBILL_SECRET_KEY=bench-secret-key-0123456789abcdef0123456789 CHATBILL_BIND=127.0.0.1:18557 CHATBILL_LOG=warn CHATBILL_WORKERS=off CHATBILL_MEDIA_DIR=$dir/media
  page=$((RANDOM * 100000 + RANDOM))
  "$BIN" shop create --name bench --currency THB --page-id "$page" --page-token bench >/dev/null
  valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out "$BIN" serve 2>$dir/vg.log & pid=$!
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:18557/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  n=$("$LOAD" intake --url http://127.0.0.1:18557/webhooks/messenger --page-id "$page" --concurrency 8 --seconds "$1" | sed 's/intake: \([0-9]*\) events.*/\1/')
  kill -INT $pid; wait $pid || true
  i=$(grep -m1 '^summary:' $dir/cg.out | awk '{print $2}')
  echo "$i $n"; rm -rf "$dir"
}
read i1 n1 < <(run 4)
read i2 n2 < <(run 12)
echo "$(basename $BIN): $(( (i2 - i1) / (n2 - n1) )) instructions per request ($n1 / $n2 requests)"
