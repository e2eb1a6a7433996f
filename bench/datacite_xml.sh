#!/usr/bin/env bash
# DataCite XML writing: records per second for Arca's writer and, on the same records in
# the same run, for the `datacite` package's schema45 writer (pip install datacite).
#   bench/datacite_xml.sh [N]     (default 2000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
arca=$(cargo bench --quiet --bench datacite_xml -- "$work/records.json" "$N" | awk '/arca_records_per_second/{print $2}')
python=$(python3 bench/datacite_xml.py "$work/records.json" | awk '/python_records_per_second/{print $2}')
echo "records:                      $N typical beamline datasets"
echo "arca (Rust, quick-xml):       $arca records/s"
echo "datacite 1.x schema45 (lxml): $python records/s"
python3 -c "print(f'ratio arca / reference:       {$arca/$python:.1f}x')"
