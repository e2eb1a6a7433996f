#!/usr/bin/env bash
# Flat cost at archive scale: seeds N released datasets (default 1,000,000; ten files
# each, DataCite records, twenty years of releases) with set-based SQL, measures every
# public and curator route at 10,000 datasets and at N, and prints p50/p95 per route and
# the ratio N / 10,000 (target: at most 1.5). SQLite by default; PostgreSQL with
# ARCA_BENCH_DATABASE_URL (a fresh schema is made for the run).
#
#   bench/scale.sh                 # N = 1,000,000 on SQLite
#   bench/scale.sh 100000
#   ARCA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
if [[ "${ARCA_BENCH_DATABASE_URL:-}" == postgres* ]]; then
  schema="bench_$(date +%s)"
  psql "$ARCA_BENCH_DATABASE_URL" -qc "CREATE SCHEMA $schema"
  trap 'psql "$ARCA_BENCH_DATABASE_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null' EXIT
  sep='?'; [[ "$ARCA_BENCH_DATABASE_URL" == *\?* ]] && sep='&'
  export ARCA_BENCH_DATABASE_URL="${ARCA_BENCH_DATABASE_URL}${sep}options=-c%20search_path%3D${schema}"
fi
ARCA_LOG=warn cargo bench --quiet --bench scale -- "$N"
