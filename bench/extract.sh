#!/usr/bin/env bash
# Metadata from the data: the extraction jobs over a detector series of FRAMES miniCBF
# images (default 3,600) of SIDE x SIDE pixels (default 1,024, about 1 MB each), or over
# an NXmx dataset of GB gigabytes (a master and bitshuffle-LZ4 data files written by
# h5py and hdf5plugin), timed against reading every file whole from the same store;
# bytes read, the deposit's report, one thumbnail.
#   bench/extract.sh [FRAMES [SIDE]]      ARCA_BENCH_DATABASE_URL=postgres://… for PostgreSQL
#   bench/extract.sh nxmx [GB [SIDE]]     (default 10 GB of 2048 x 2048 frames, in ./bench-work)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == nxmx ]]; then
  WORK="${ARCA_BENCH_DIR:-$PWD/bench-work}/nxmx"
  # h5py and hdf5plugin from the test environment (scripts/test-deps installs them).
  [[ -x target/test-env/bin/python3 ]] || scripts/test-deps ""
  if [[ ! -f "$WORK/bench_master.h5" ]]; then
    rm -rf "$WORK"
    target/test-env/bin/python3 bench/lib/nxmx.py "$WORK" "${2:-10}" "${3:-2048}"
  fi
  cargo bench --quiet --bench extract -- --dir "$WORK"
  echo "(the dataset stays in $WORK for another run; remove it when done)"
else
  cargo bench --quiet --bench extract -- "${1:-3600}" "${2:-1024}"
fi
