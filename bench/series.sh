#!/usr/bin/env bash
# Detector series in: `arca upload` of a series (SHA-256 checked on both ends) beside
# `rsync -a` of the same files to the same disk followed by `sync` (rsync checks
# nothing), in one run. Two shapes: 400 frames of 6 MiB (a CBF sweep) and 4 data files
# of 1 GiB (an Eiger master's data files). Each client runs twice; the faster run counts.
#   bench/series.sh                       # both shapes
#   ARCA_BENCH_FRAMES=3600 bench/series.sh
# Prints seconds and MB/s of each and the ratio rsync time / arca time (≥ 1: arca is at
# least as fast).
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES="${ARCA_BENCH_FRAMES:-400}"
cargo build --release --quiet --bin arca
BIN="$PWD/target/release/arca"
WORK=$(mktemp -d "${ARCA_BENCH_DIR:-$PWD/bench-work}.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cleanup() { [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export ARCA_DATA_DIR="$WORK/data" ARCA_LOG=warn
unset ARCA_DATABASE_URL ARCA_CONFIG
ARCA_PASSWORD=benchmark-password "$BIN" user add --email bench@example.org --name Bench --role curator >/dev/null
TOKEN=$("$BIN" token create --email bench@example.org)
"$BIN" serve --bind "127.0.0.1:$PORT" & SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done

random() { { openssl enc -aes-128-ctr -pass "pass:$2" -nosalt -pbkdf2 </dev/zero 2>/dev/null || true; } | head -c "$1"; }
deposit() {
  curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -X POST "$BASE/api/v1/deposits" -d '{"metadata": {"titles": [{"title": "Series"}], "creators": [{"name": "Bench, B"}],
      "publisher": {"name": "Arca"}, "publicationYear": 2026, "types": {"resourceTypeGeneral": "Dataset"}}}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
timed() { local t0 t1; sync; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
run_arca() { "$BIN" upload --server "$BASE" --token "$TOKEN" --deposit "$(deposit)" "$1"; }
run_rsync() { rm -rf "$WORK/copy"; rsync -a "$1/" "$WORK/copy/"; sync; }

measure() {
  local name=$1 dir=$2 bytes
  bytes=$(du -sb "$dir" | cut -f1)
  local a1 a2 r1 r2
  # Alternating, so neither gets the warmer disk.
  a1=$(timed run_arca "$dir"); r1=$(timed run_rsync "$dir")
  r2=$(timed run_rsync "$dir"); a2=$(timed run_arca "$dir")
  python3 - "$name" "$bytes" "$a1" "$a2" "$r1" "$r2" <<'PY'
import sys
name, size = sys.argv[1], int(sys.argv[2])
arca = min(float(sys.argv[3]), float(sys.argv[4]))
rsync = min(float(sys.argv[5]), float(sys.argv[6]))
mb = lambda s: size / s / 1e6
print(f"{name}: arca upload {arca:6.2f} s ({mb(arca):6.0f} MB/s) | rsync -a + sync {rsync:6.2f} s ({mb(rsync):6.0f} MB/s) | ratio rsync/arca {rsync / arca:.2f}")
PY
}

mkdir -p "$WORK/frames" "$WORK/large"
for i in $(seq -w 1 "$FRAMES"); do random $((6 << 20)) "f$i" >"$WORK/frames/frame_$i.cbf"; done
for i in 1 2 3 4; do random $((1 << 30)) "d$i" >"$WORK/large/data_00000$i.h5"; done
measure "$FRAMES frames of 6 MiB" "$WORK/frames"
measure "4 files of 1 GiB" "$WORK/large"
