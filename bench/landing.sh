#!/usr/bin/env bash
# Landing-page throughput: wrk on loopback against a released dataset's landing page
# (50 files, full citation, JSON-LD, Signposting), and against the same HTML served as a
# static file by nginx in the same run. Arca is measured twice: as configured by default
# (rendered pages kept in memory for [web] page_cache_seconds = 5) and with that cache
# off (a second server on the same catalogue): each request then reads the page from the
# catalogue, where the release's job kept it. Prints requests/s of each and the ratios
# to nginx. Usage counting (COUNTER views and downloads) is on in both; two more servers
# on the same catalogue run with it off ([usage] enabled = false), and the landing page
# and a file download are measured against them in the same run: the ratios on/off are
# what counting costs.
#
#   bench/landing.sh                 # 10 s per run, 32 connections, best of 3
#   ARCA_BENCH_SECONDS=30 ARCA_BENCH_CONNECTIONS=64 bench/landing.sh
# Needs wrk and nginx (Debian: apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${ARCA_BENCH_SECONDS:-10}"
CONNS="${ARCA_BENCH_CONNECTIONS:-32}"
RUNS="${ARCA_BENCH_RUNS:-3}"
PORT="${ARCA_BENCH_PORT:-18081}"
NGINX_PORT=$((PORT + 1))
UNCACHED_PORT=$((PORT + 2))
OFF_PORT=$((PORT + 3))
OFF_UNCACHED_PORT=$((PORT + 4))
ON_PORT=$((PORT + 5))
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || { echo "nginx is not installed (apt-get install nginx-light)"; exit 2; }

cargo build --release --quiet --bin arca
BIN="$PWD/target/release/arca"
WORK=$(mktemp -d)
cleanup() {
  [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null || true
  [[ -n "${UNCACHED:-}" ]] && kill "$UNCACHED" 2>/dev/null || true
  [[ -n "${OFF:-}" ]] && kill "$OFF" 2>/dev/null || true
  [[ -n "${ON_PID:-}" ]] && kill "$ON_PID" 2>/dev/null || true
  [[ -n "${OFF_UNCACHED:-}" ]] && kill "$OFF_UNCACHED" 2>/dev/null || true
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export ARCA_DATA_DIR="$WORK/data" ARCA_LOG=warn
unset ARCA_DATABASE_URL ARCA_CONFIG
ARCA_PASSWORD=benchmark-password "$BIN" user add --email bench@example.org --name Bench --role curator >/dev/null
TOKEN=$("$BIN" token create --email bench@example.org)
"$BIN" serve --bind "127.0.0.1:$PORT" & SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# A realistic released dataset: a full record and 50 files.
DATASET=$(python3 - "$PORT" "$TOKEN" <<'PY'
import base64, json, sys, time, urllib.request
port, token = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None, headers=None):
    h = {"Authorization": f"Bearer {token}", **(headers or {})}
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    if isinstance(body, dict):
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    with urllib.request.urlopen(req) as r:
        return r.status, r.headers, r.read()
meta = {
    "titles": [{"title": "Hen egg-white lysozyme, 100 K, native and iodide-soaked crystals"}],
    "creators": [{"name": f"Author{i}, Given", "nameType": "Personal",
                  "affiliation": [{"name": "Diamond Light Source"}]} for i in range(8)],
    "publisher": {"name": "Arca"}, "publicationYear": 2026,
    "types": {"resourceTypeGeneral": "Dataset"},
    "descriptions": [{"description": "Diffraction images collected on I04. " * 20,
                      "descriptionType": "Abstract"}],
}
facility = {"facility": {"name": "Diamond Light Source"}, "beamline": {"name": "I04"},
            "pdb_ids": ["1LYZ"], "licence": "CC-BY-4.0", "keywords": ["lysozyme", "iodide"],
            "software": [{"name": "XDS", "version": "Jan 2026"}]}
_, _, body = call("POST", "/api/v1/deposits", {"metadata": meta, "facility": facility})
dep = json.loads(body)["id"]
for i in range(50):
    md = f"deposit {base64.b64encode(dep.encode()).decode()},filename {base64.b64encode(f'images/img_{i:04}.cbf'.encode()).decode()}"
    data = f"image {i}".encode() * 100
    _, h, _ = call("POST", "/api/v1/uploads", b"", {"Tus-Resumable": "1.0.0",
                   "Upload-Length": str(len(data)), "Upload-Metadata": md})
    call("PATCH", h["Location"], data, {"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
         "Content-Type": "application/offset+octet-stream"})
call("POST", f"/api/v1/deposits/{dep}/submit", b"")
for _ in range(200):
    _, _, body = call("GET", f"/api/v1/deposits/{dep}")
    if json.loads(body)["state"] == "verified":
        break
    time.sleep(0.1)
call("POST", f"/api/v1/deposits/{dep}/approve", b"")
call("POST", f"/api/v1/deposits/{dep}/release", b"")
print(json.loads(call("GET", f"/api/v1/deposits/{dep}")[2])["dataset_id"])
PY
)
URL_PATH="/datasets/$DATASET"
printf '[web]\npage_cache_seconds = 0\n' >"$WORK/uncached.toml"
ARCA_CONFIG="$WORK/uncached.toml" "$BIN" serve --no-worker --bind "127.0.0.1:$UNCACHED_PORT" & UNCACHED=$!
printf '[usage]\nenabled = false\n' >"$WORK/off.toml"
printf '[web]\npage_cache_seconds = 0\n[usage]\nenabled = false\n' >"$WORK/off-uncached.toml"
ARCA_CONFIG="$WORK/off.toml" "$BIN" serve --no-worker --bind "127.0.0.1:$OFF_PORT" & OFF=$!
# Counting on, alike in every other way (no worker, not the server that took the upload).
"$BIN" serve --no-worker --bind "127.0.0.1:$ON_PORT" & ON_PID=$!
ARCA_CONFIG="$WORK/off-uncached.toml" "$BIN" serve --no-worker --bind "127.0.0.1:$OFF_UNCACHED_PORT" & OFF_UNCACHED=$!
for p in "$UNCACHED_PORT" "$OFF_PORT" "$OFF_UNCACHED_PORT" "$ON_PORT"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
done
FILE_PATH="/datasets/$DATASET/files/images/img_0000.cbf"
mkdir -p "$WORK/www/datasets"
curl -fs "http://127.0.0.1:$PORT$URL_PATH" -o "$WORK/www/datasets/$DATASET"
SIZE=$(stat -c %s "$WORK/www/datasets/$DATASET")
cat >"$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/html;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$NGINX_PORT$URL_PATH" >/dev/null && break; sleep 0.1; done

rps() { wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" "$1" | awk '/Requests\/sec/ {print int($2)}'; }
best() { python3 -c "import sys; print(max(int(x) for x in sys.argv[1:]))" "$@"; }
arca_runs=(); uncached_runs=(); nginx_runs=(); off_runs=(); off_uncached_runs=(); dl_runs=(); dl_off_runs=(); on_runs=()
for _ in $(seq "$RUNS"); do
  arca_runs+=("$(rps "http://127.0.0.1:$PORT$URL_PATH")")
  on_runs+=("$(rps "http://127.0.0.1:$ON_PORT$URL_PATH")")
  off_runs+=("$(rps "http://127.0.0.1:$OFF_PORT$URL_PATH")")
  uncached_runs+=("$(rps "http://127.0.0.1:$UNCACHED_PORT$URL_PATH")")
  off_uncached_runs+=("$(rps "http://127.0.0.1:$OFF_UNCACHED_PORT$URL_PATH")")
  nginx_runs+=("$(rps "http://127.0.0.1:$NGINX_PORT$URL_PATH")")
  dl_runs+=("$(rps "http://127.0.0.1:$ON_PORT$FILE_PATH")")
  dl_off_runs+=("$(rps "http://127.0.0.1:$OFF_PORT$FILE_PATH")")
done
ARCA=$(best "${arca_runs[@]}"); UNC=$(best "${uncached_runs[@]}"); REF=$(best "${nginx_runs[@]}")
OFFB=$(best "${off_runs[@]}"); OFFU=$(best "${off_uncached_runs[@]}"); ON=$(best "${on_runs[@]}")
DL=$(best "${dl_runs[@]}"); DLOFF=$(best "${dl_off_runs[@]}")
echo "landing page: $SIZE bytes of HTML, 50 files, wrk -t2 -c$CONNS, ${SECONDS_PER_RUN}s x $RUNS, best run"
echo "  arca, default (page cache 5 s):  $ARCA req/s   runs: ${arca_runs[*]}"
echo "  arca, no page cache (catalogue):  $UNC req/s   runs: ${uncached_runs[*]}"
echo "  nginx, the same HTML as a file:  $REF req/s   runs: ${nginx_runs[*]}"
python3 -c "print(f'  ratio arca/nginx: {$ARCA/$REF:.2f} (default), {$UNC/$REF:.3f} (no page cache: one catalogue read a request)')"
echo "usage counting on / off (same catalogue, same run):"
echo "  landing, page cache:     $ON / $OFFB req/s   runs on: ${on_runs[*]} off: ${off_runs[*]}"
echo "  landing, no page cache:  $UNC / $OFFU req/s   off runs: ${off_uncached_runs[*]}"
echo "  file download (800 B):   $DL / $DLOFF req/s   runs on: ${dl_runs[*]} off: ${dl_off_runs[*]}"
python3 -c "print(f'  ratio on/off: landing {$ON/$OFFB:.3f} (cached), {$UNC/$OFFU:.3f} (no page cache), download {$DL/$DLOFF:.3f} (goal >= 0.95)')"
