#!/usr/bin/env bash
# Ingest benchmark: upload one large file over tus on loopback and compare the
# throughput with the physical limit measured in the same run on the same file and
# disk: the slower of hashing it (openssl dgst -sha256) and writing it durably
# (dd conv=fdatasync). Also reports the server's peak RSS. Best of ARCA_BENCH_RUNS (3).
# With ARCA_BENCH_S3=moto (or garage) the archive's storage is an S3 server on loopback
# (uploads staged as multipart uploads there) and the reference is `aws s3 cp` of the
# same file to the same server, in the same run.
#
#   bench/ingest.sh            # 4 GiB file under ./bench-work
#   ARCA_BENCH_MB=16384 ARCA_BENCH_DIR=/big/disk bench/ingest.sh
#   ARCA_BENCH_S3=moto ARCA_BENCH_MB=1024 bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${ARCA_BENCH_MB:-4096}"
WORK="${ARCA_BENCH_DIR:-$PWD/bench-work}"
PORT="${ARCA_BENCH_PORT:-18080}"

cargo build --release --quiet --bin arca
BIN="$PWD/target/release/arca"
rm -rf "$WORK" && mkdir -p "$WORK"
FILE="$WORK/payload.bin"
cleanup() {
  [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null
  [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

secs() { python3 -c 'import sys,time; print(time.time())'; }
rate() { python3 -c "print(f'{$1/1048576/($3-$2):.0f}')"; }

echo "Preparing a ${MB} MiB file of random bytes in $WORK ..."
# openssl is cut off by head (SIGPIPE): that is how this pipe ends, not an error.
{ openssl enc -aes-128-ctr -pass pass:arca -nosalt -pbkdf2 </dev/zero 2>/dev/null || true; } \
  | head -c "$((MB * 1048576))" >"$FILE"
BYTES=$(stat -c %s "$FILE")
# Each measurement starts on a quiet disk: nothing dirty left from the previous step.
sync

# Disk and hash speeds vary from run to run on shared machines: every figure below is
# the best of $RUNS runs, for the references and for Arca alike.
RUNS="${ARCA_BENCH_RUNS:-3}"
best() { python3 -c "import sys; print(max(int(x) for x in sys.argv[1:]))" "$@"; }
hash_runs=(); disk_runs=(); arca_runs=(); aws_runs=()
if [[ -n "${ARCA_BENCH_S3:-}" ]]; then
  command -v aws >/dev/null || python3 -m pip install -q awscli
  work="$WORK" S3_BUCKETS="arca awscli"
  . bench/lib/s3.sh
  cat >"$WORK/arca.toml" <<TOML
[storage]
kind = "s3"
bucket = "arca"
endpoint = "$ep"
region = "$AWS_DEFAULT_REGION"
TOML
  ARCA_BENCH_CONFIG="$WORK/arca.toml"
  # The reference: the AWS CLI's defaults (8 MiB parts, 10 in flight) to the same server.
  for i in $(seq "$RUNS"); do
    t0=$(secs); aws --endpoint-url "$ep" s3 cp --only-show-errors "$FILE" "s3://awscli/payload-$i"; t1=$(secs)
    aws_runs+=("$(rate "$BYTES" "$t0" "$t1")")
  done
  LIMIT=$(best "${aws_runs[@]}")
else
  for _ in $(seq "$RUNS"); do
    t0=$(secs); openssl dgst -sha256 "$FILE" >/dev/null; t1=$(secs)
    hash_runs+=("$(rate "$BYTES" "$t0" "$t1")")
    t0=$(secs); dd if="$FILE" of="$WORK/dd.out" bs=4M conv=fdatasync status=none; t1=$(secs)
    disk_runs+=("$(rate "$BYTES" "$t0" "$t1")")
    rm -f "$WORK/dd.out"; sync
  done
  HASH=$(best "${hash_runs[@]}"); DISK=$(best "${disk_runs[@]}")
  LIMIT=$(( HASH < DISK ? HASH : DISK ))
fi

export ARCA_DATA_DIR="$WORK/data" ARCA_LOG=warn
unset ARCA_DATABASE_URL
if [[ -n "${ARCA_BENCH_CONFIG:-}" ]]; then export ARCA_CONFIG="$ARCA_BENCH_CONFIG"; else unset ARCA_CONFIG; fi
ARCA_PASSWORD=benchmark-password "$BIN" user add --email bench@example.org --name Bench >/dev/null
TOKEN=$("$BIN" token create --email bench@example.org)
"$BIN" serve --bind "127.0.0.1:$PORT" & SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
AUTH="Authorization: Bearer $TOKEN"
# Each upload sends new bytes (the run's number stamped at the start of the file): the
# same bytes again would be de-duplicated, which skips storing them.
stamp() { printf 'arca bench run %08d' "$1" | dd of="$FILE" conv=notrunc status=none; }
# upload_once RUN [declare]: one tus upload of the file; with "declare", the upload says
# the file's SHA-256 in its metadata first (as `arca upload` does for files it has read).
upload_once() {
  local deposit meta location t0 t1
  stamp "$1"
  deposit=$(curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/deposits" -H "$AUTH" -d '{"metadata":{}}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  meta="deposit $(printf %s "$deposit" | base64 -w0),filename $(printf payload.bin | base64 -w0)"
  if [[ "${2:-}" == declare ]]; then
    meta="$meta,sha256 $(openssl dgst -sha256 -r "$FILE" | cut -d' ' -f1 | base64 -w0)"
  fi
  location=$(curl -fs -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/uploads" -H "$AUTH" \
    -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $BYTES" -H "Upload-Metadata: $meta" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  t0=$(secs)
  curl -fs -X PATCH -T "$FILE" "http://127.0.0.1:$PORT$location" -H "$AUTH" -H "Expect:" \
    -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream"
  t1=$(secs)
  echo "$deposit" >"$WORK/last-deposit"
  sync
  rate "$BYTES" "$t0" "$t1"
}
declared_runs=()
for i in $(seq "$RUNS"); do
  arca_runs+=("$(upload_once "$i")")
  # On S3 a declared hash lets the parts be assembled at the object's key: no copy.
  if [[ -n "${ARCA_BENCH_S3:-}" ]]; then declared_runs+=("$(upload_once "$((RUNS + i))" declare)"); fi
done
ARCA=$(best "${arca_runs[@]}")
DEPOSIT=$(cat "$WORK/last-deposit")
RSS_KB=$(awk '/VmHWM/{print $2}' "/proc/$SERVER/status")

SERVER_SHA=$(curl -fs "http://127.0.0.1:$PORT/api/v1/deposits/$DEPOSIT/files" -H "$AUTH" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["sha256"])')
LOCAL_SHA=$(openssl dgst -sha256 -r "$FILE" | cut -d' ' -f1)
[[ "$SERVER_SHA" == "$LOCAL_SHA" ]] || { echo "SHA-256 differs: $SERVER_SHA vs $LOCAL_SHA"; exit 1; }
# The stored bytes, read back from the store through the archive.
STORED_SHA=$(curl -fs "http://127.0.0.1:$PORT/api/v1/deposits/$DEPOSIT/files/payload.bin" -H "$AUTH" \
  | openssl dgst -sha256 -r | cut -d' ' -f1)
[[ "$STORED_SHA" == "$LOCAL_SHA" ]] || { echo "stored bytes differ: $STORED_SHA vs $LOCAL_SHA"; exit 1; }

echo
echo "file:                        ${MB} MiB"
if [[ -n "${ARCA_BENCH_S3:-}" ]]; then
  echo "storage:                     $server_name on loopback"
  echo "aws s3 cp (reference):       ${LIMIT} MiB/s   (runs: ${aws_runs[*]})"
  DECLARED=$(best "${declared_runs[@]}")
  echo "arca tus upload (loopback):  ${ARCA} MiB/s   (runs: ${arca_runs[*]}; hashed, staged, assembled, copied to its key)"
  echo "  ... SHA-256 declared:      ${DECLARED} MiB/s   (runs: ${declared_runs[*]}; assembled at its key)"
  python3 -c "print(f'ratio arca / aws s3 cp:      {$ARCA/$LIMIT:.2f}, declared {$DECLARED/$LIMIT:.2f}   (target >= 1.00)')"
else
  echo "openssl dgst -sha256:        ${HASH} MiB/s   (runs: ${hash_runs[*]})"
  echo "dd conv=fdatasync (disk):    ${DISK} MiB/s   (runs: ${disk_runs[*]})"
  echo "physical limit (slower):     ${LIMIT} MiB/s"
  echo "arca tus upload (loopback):  ${ARCA} MiB/s   (runs: ${arca_runs[*]}; hashed, fsynced, stored)"
  python3 -c "print(f'ratio arca / limit:          {$ARCA/$LIMIT:.2f}   (target >= 0.80)')"
fi
if [[ -n "${ARCA_BENCH_S3:-}" ]]; then
  echo "server peak RSS:             $((RSS_KB / 1024)) MiB  (bounded: 4 parts of 16 MiB in flight and one filling)"
else
  echo "server peak RSS:             $((RSS_KB / 1024)) MiB  (target < 100 MiB)"
fi
