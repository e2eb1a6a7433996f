#!/usr/bin/env bash
# Mixed load on one server (release build, embedded defaults: SQLite and a local disk),
# for a bounded time: 32 uploaders (1 MiB tus PATCHes, one upload in four cut off and
# resumed), 64 readers of landing pages and files, an OAI-PMH harvester and four
# curators approving what was verified. Prints requests/s, p50/p99 per route, answers
# by status, lost bytes (none allowed) and the server's peak memory. Exits non-zero on
# any 5xx, failed connection or lost byte.
#
#   bench/load.sh                        # 60 s
#   ARCA_LOAD_SECONDS=300 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${ARCA_LOAD_SECONDS:-60}"
PORT="${ARCA_BENCH_PORT:-18091}"
cargo build --release --quiet --bin arca --bench load
BIN="$PWD/target/release/arca"
LOAD=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -n1)
WORK=$(mktemp -d)
cleanup() {
  [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export ARCA_DATA_DIR="$WORK/data" ARCA_LOG=warn
unset ARCA_DATABASE_URL
# Four author accounts (the default limit is 16 uploads at once per account).
printf '[web]\nguesses_per_minute = 1000\n' >"$WORK/arca.toml"
export ARCA_CONFIG="$WORK/arca.toml"
ARCA_PASSWORD=benchmark-password "$BIN" user add --email curator@example.org --name Curator --role curator >/dev/null
CURATOR=$("$BIN" token create --email curator@example.org)
AUTHORS=""
for i in 1 2 3 4; do
  ARCA_PASSWORD=benchmark-password "$BIN" user add --email "author$i@example.org" --name "Author $i" --role author >/dev/null
  AUTHORS="$AUTHORS${AUTHORS:+,}$("$BIN" token create --email "author$i@example.org")"
done
"$BIN" serve --bind "127.0.0.1:$PORT" & SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# Twenty released datasets of five files each for the readers and the harvester.
PAGES=$(python3 - "$PORT" "$CURATOR" <<'PY'
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
pages, deps = [], []
for n in range(20):
    meta = {"titles": [{"title": f"Lysozyme load test {n}"}],
            "creators": [{"name": "Author, Given", "nameType": "Personal"}],
            "publisher": {"name": "Arca"}, "publicationYear": 2026,
            "types": {"resourceTypeGeneral": "Dataset"}}
    dep = json.loads(call("POST", "/api/v1/deposits", {"metadata": meta})[2])["id"]
    files = []
    for i in range(5):
        path = f"images/img_{i:04}.cbf"
        md = f"deposit {base64.b64encode(dep.encode()).decode()},filename {base64.b64encode(path.encode()).decode()}"
        data = (f"image {n}.{i} " * 20000).encode()
        _, h, _ = call("POST", "/api/v1/uploads", b"", {"Tus-Resumable": "1.0.0",
                       "Upload-Length": str(len(data)), "Upload-Metadata": md})
        call("PATCH", h["Location"], data, {"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
             "Content-Type": "application/offset+octet-stream"})
        files.append(path)
    call("POST", f"/api/v1/deposits/{dep}/submit", b"")
    deps.append((dep, files))
for dep, files in deps:
    for _ in range(300):
        if json.loads(call("GET", f"/api/v1/deposits/{dep}")[2])["state"] == "verified":
            break
        time.sleep(0.1)
    call("POST", f"/api/v1/deposits/{dep}/approve", b"")
    call("POST", f"/api/v1/deposits/{dep}/release", b"")
    pages.append([json.loads(call("GET", f"/api/v1/deposits/{dep}")[2])["dataset_id"], files])
print(json.dumps(pages))
PY
)
ARCA_LOAD_BASE="http://127.0.0.1:$PORT" ARCA_LOAD_PID="$SERVER" ARCA_LOAD_AUTHORS="$AUTHORS" \
  ARCA_LOAD_CURATOR="$CURATOR" ARCA_LOAD_SECONDS="$SECS" ARCA_LOAD_PAGES="$PAGES" \
  "$LOAD"
