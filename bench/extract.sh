#!/usr/bin/env bash
# Metadata from the data: the extraction jobs over a detector series of FRAMES miniCBF
# images (default 3,600) of SIDE x SIDE pixels (default 1,024, about 1 MB each), timed
# against reading every frame whole from the same store; bytes read, the deposit's
# report, one thumbnail.
#   bench/extract.sh [FRAMES [SIDE]]      ARCA_BENCH_DATABASE_URL=postgres://… for PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench extract -- "${1:-3600}" "${2:-1024}"
