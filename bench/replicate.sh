#!/usr/bin/env bash
# Replication throughput: Arca's transfer of a multi-GB dataset to an S3 server, beside
# the AWS command-line client copying the same files to the same server, in one run.
#   bench/replicate.sh [FILES] [MIB_EACH]     (default 4 files of 512 MiB = 2 GiB)
# Needs moto_server and aws (pip install moto[server] awscli).
set -euo pipefail
cd "$(dirname "$0")/.."
FILES="${1:-4}"; MIB="${2:-512}"
command -v aws >/dev/null || python3 -m pip install -q awscli
work=$(mktemp -d "${ARCA_BENCH_DIR:-/tmp}/arca-replicate.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT
ep="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$ep/moto-api/" >/dev/null && break; sleep 0.1; done
curl -sf -X PUT "$ep/bench" >/dev/null
mkdir -p "$work/files"
for i in $(seq 1 "$FILES"); do
  openssl rand -out "$work/files/frames_$i.h5" $((MIB << 20))
done
total=$((FILES * MIB))
cargo bench --quiet --bench replicate --no-run 2>/dev/null || true
arca=$(cargo bench --quiet --bench replicate -- "$work/files" "$ep" bench | awk '/arca_mib_per_second/{print $2}')
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
start=$(date +%s.%N)
aws --endpoint-url "$ep" s3 cp --recursive --only-show-errors "$work/files" s3://bench/awscli/
end=$(date +%s.%N)
awscli=$(python3 -c "print(f'{$total/($end-$start):.1f}')")
echo "dataset:                 $FILES files of $MIB MiB ($total MiB), moto_server on loopback"
echo "arca transfer:           $arca MiB/s (SHA-256 per part, whole-object hash, size check)"
echo "aws s3 cp --recursive:   $awscli MiB/s"
python3 -c "print(f'ratio arca / aws cli:    {$arca/$awscli:.2f}')"
