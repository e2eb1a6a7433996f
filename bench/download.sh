#!/usr/bin/env bash
# Download throughput: a released dataset of many files fetched by `arca download`
# (every file's SHA-256 checked before it is kept) from the archive alone and from the
# archive with an S3 mirror, beside `curl` of every file from the archive (8 at once, no
# check; then again followed by `sha256sum -c` of the archive's manifest-sha256.txt) and
# `aws s3 sync` of the mirror's bucket (no check), in one run on one machine.
#   bench/download.sh [FILES] [MIB_EACH]      (default 64 files of 64 MiB = 4 GiB)
# The mirror is moto_server (pip install moto[server]); aws comes from pip (awscli).
# Each client runs twice into a fresh directory; the faster run counts. Prints MB/s of
# each and the ratio of arca download to the faster of curl and aws.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES="${1:-64}"; MIB="${2:-64}"
command -v aws >/dev/null || python3 -m pip install -q awscli
command -v moto_server >/dev/null || python3 -m pip install -q 'moto[server]'
cargo build --release --quiet --bin arca
BIN="$PWD/target/release/arca"
WORK=$(mktemp -d "${ARCA_BENCH_DIR:-/tmp}/arca-download.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3_PORT=$(free_port); PORT=$(free_port)
EP="http://127.0.0.1:$S3_PORT"
cleanup() {
  [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null || true
  [[ -n "${MOTO:-}" ]] && kill "$MOTO" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
moto_server -H 127.0.0.1 -p "$S3_PORT" >/dev/null 2>&1 & MOTO=$!
for _ in $(seq 100); do curl -sf "$EP/moto-api/" >/dev/null && break; sleep 0.1; done
# A published bucket: anyone may read it, as one behind --public-url is.
curl -sf -X PUT -H "x-amz-acl: public-read" "$EP/mirror" >/dev/null
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
printf 'access_key_id = "testing"\nsecret_access_key = "testing"\n' >"$WORK/mirror.toml"

export ARCA_DATA_DIR="$WORK/data" ARCA_LOG=warn
unset ARCA_DATABASE_URL ARCA_CONFIG
ARCA_PASSWORD=benchmark-password "$BIN" user add --email bench@example.org --name Bench --role curator >/dev/null
TOKEN=$("$BIN" token create --email bench@example.org)
"$BIN" mirror add --name mirror --endpoint "$EP" --bucket mirror --prefix arca \
  --credentials-file "$WORK/mirror.toml" --public-url "$EP/mirror" >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" & SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done

echo "== $FILES files of $MIB MiB"
mkdir -p "$WORK/src/frames"
for i in $(seq -w 1 "$FILES"); do
  head -c "$((MIB << 20))" /dev/urandom >"$WORK/src/frames/frame_$i.h5"
done
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
DEP=$(api -X POST "$BASE/api/v1/deposits" -d '{"metadata": {"titles": [{"title": "Download benchmark"}],
  "creators": [{"name": "Bench, B"}], "publisher": {"name": "Arca"}, "publicationYear": 2026,
  "types": {"resourceTypeGeneral": "Dataset"}}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN" upload --server "$BASE" --token "$TOKEN" --deposit "$DEP" "$WORK/src" >/dev/null
api -X POST "$BASE/api/v1/deposits/$DEP/submit" >/dev/null
state() { api "$BASE/api/v1/deposits/$DEP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
for _ in $(seq 600); do [[ "$(state)" == verified ]] && break; sleep 0.5; done
api -X POST "$BASE/api/v1/deposits/$DEP/approve" >/dev/null
api -X POST "$BASE/api/v1/deposits/$DEP/release" >/dev/null
DS=$(api "$BASE/api/v1/deposits/$DEP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dataset_id"])')
URL="$BASE/datasets/$DS"
# Wait for the mirror to hold a verified copy of every file.
for _ in $(seq 1200); do
  n=$(curl -fs "$URL/manifest.json" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(1 for f in m["files"] if f["mirrors"]))')
  [[ "$n" == "$FILES" ]] && break; sleep 0.5
done
[[ "$n" == "$FILES" ]] || { echo "the mirror did not get every file"; exit 1; }
curl -fs "$URL/manifest.json" | python3 -c 'import json,sys; [print(f["url"]) for f in json.load(sys.stdin)["files"]]' >"$WORK/urls"
BYTES=$((FILES * (MIB << 20)))

# Seconds taken by a command (into a fresh directory each time).
timed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
run_arca() { rm -rf "$WORK/out"; "$BIN" download "$URL" "$WORK/out" "$@"; }
run_curl() { rm -rf "$WORK/out"; mkdir -p "$WORK/out"; (cd "$WORK/out" && xargs -P 8 -n 1 curl -fsS -O <"$WORK/urls"); }
run_curl_checked() {
  run_curl
  curl -fs "$URL/manifest-sha256.txt" | sed 's|  frames/|  |' >"$WORK/SHA256SUMS"
  (cd "$WORK/out" && sha256sum -c --quiet "$WORK/SHA256SUMS")
}
run_aws() { rm -rf "$WORK/out"; aws --endpoint-url "$EP" s3 sync s3://mirror/arca "$WORK/out" --only-show-errors; }
best_of_two() { local a b; a=$(timed "$@"); b=$(timed "$@"); python3 -c "print(min($a, $b))"; }
ARCHIVE=$(best_of_two run_arca --no-mirrors)
MIRRORED=$(best_of_two run_arca)
CURL=$(best_of_two run_curl)
CURL_CHECKED=$(best_of_two run_curl_checked)
AWS=$(best_of_two run_aws)
# The last arca run must have verified every file: run it once more and check its word.
run_arca >"$WORK/last.txt" 2>&1 || { cat "$WORK/last.txt"; exit 1; }
grep -q "Every file's SHA-256 matches" "$WORK/last.txt"

python3 - "$BYTES" "$ARCHIVE" "$MIRRORED" "$CURL" "$AWS" "$CURL_CHECKED" <<'PY'
import sys
size = int(sys.argv[1])
archive, mirrored, curl, aws, curl_checked = map(float, sys.argv[2:])
rate = lambda s: size / s / 1e6
print(f"arca download, archive only (verified):   {rate(archive):8.1f} MB/s  ({archive:.1f} s)")
print(f"arca download, archive + mirror (verified):{rate(mirrored):8.1f} MB/s  ({mirrored:.1f} s)")
print(f"curl, 8 files at once (no check):          {rate(curl):8.1f} MB/s  ({curl:.1f} s)")
print(f"curl, then sha256sum -c (verified):        {rate(curl_checked):8.1f} MB/s  ({curl_checked:.1f} s)")
print(f"aws s3 sync of the mirror (no check):      {rate(aws):8.1f} MB/s  ({aws:.1f} s)")
faster = min(curl, aws)
print(f"ratio arca (archive only) / faster of curl and aws:     {faster / archive:.2f}")
print(f"ratio arca (archive + mirror) / faster of curl and aws: {faster / mirrored:.2f}")
print(f"ratio arca (archive only) / curl then sha256sum -c:     {curl_checked / archive:.2f}")
PY
