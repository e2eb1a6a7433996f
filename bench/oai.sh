#!/usr/bin/env bash
# OAI-PMH harvest depth: time per ListRecords page from the first to the last page of a
# large archive (default 100,000 records), as a ratio last/first (flat is 1.0).
#   bench/oai.sh [N]      ARCA_BENCH_DATABASE_URL=postgres://… for PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench oai -- "${1:-100000}"
