#!/usr/bin/env bash
# Replication throughput: Arca's transfer of a multi-GB dataset to an S3 server, beside
# the AWS command-line client copying the same files to the same server, in one run.
#   bench/replicate.sh [FILES] [MIB_EACH]     (default 4 files of 512 MiB = 2 GiB)
# An untimed copy warms the server up first (the first copy onto a fresh server is
# markedly slower, whoever sends it); then each client copies twice, in the order arca,
# aws, aws, arca, each time into a fresh bucket. Beside each rate: the CPU seconds the
# server spent on that copy.
# The server is moto_server (pip install moto[server]), or Garage when ARCA_BENCH_S3=garage
# and `garage` is on PATH (cargo install garage). Needs aws (pip install awscli).
set -euo pipefail
cd "$(dirname "$0")/.."
FILES="${1:-4}"; MIB="${2:-512}"
command -v aws >/dev/null || python3 -m pip install -q awscli
work=$(mktemp -d "${ARCA_BENCH_DIR:-/tmp}/arca-replicate.XXXXXX")
S3_BUCKETS="warm-up arca-1 arca-2 awscli-1 awscli-2"
trap 'kill ${server:-} 2>/dev/null; rm -rf "$work"' EXIT
. bench/lib/s3.sh
mkdir -p "$work/files"
for i in $(seq 1 "$FILES"); do
  openssl rand -out "$work/files/frames_$i.h5" $((MIB << 20))
done
total=$((FILES * MIB))
cargo bench --quiet --bench replicate --no-run 2>/dev/null || true
# Each run prints: MiB/s, the client's CPU seconds, the server's CPU seconds.
aws_run() {
  local c0 start end cpu
  c0=$(server_cpu); start=$(date +%s.%N)
  cpu=$( { TIMEFORMAT='%U %S'; time aws --endpoint-url "$ep" s3 cp --recursive --only-show-errors "$work/files" "s3://$1/" >/dev/null; } 2>&1 | tail -1)
  end=$(date +%s.%N)
  python3 -c "u,s='$cpu'.split(); print(f'{$total/($end-$start):.1f} {float(u)+float(s):.1f} {$(server_cpu)-$c0:.1f}')"
}
arca_run() {
  local c0 out
  c0=$(server_cpu)
  out=$(cargo bench --quiet --bench replicate -- "$work/files" "$ep" "arca-$1")
  awk '/arca_max_rss_mib/{print "arca peak memory: " $2 " MiB"}' <<<"$out" >&2
  echo "$(awk '/arca_mib_per_second/{print $2}' <<<"$out") $(awk '/arca_cpu_seconds/{print $2}' <<<"$out") $(python3 -c "print(f'{$(server_cpu)-$c0:.1f}')")"
}
aws_run warm-up >/dev/null
read -r arca1 arca1_cpu arca1_srv < <(arca_run 1)
read -r aws1 aws1_cpu aws1_srv < <(aws_run awscli-1)
read -r aws2 aws2_cpu aws2_srv < <(aws_run awscli-2)
read -r arca2 arca2_cpu arca2_srv < <(arca_run 2)
mean() { python3 -c "print(f'{($1+$2)/2:.1f}')"; }
arca=$(mean "$arca1" "$arca2"); awscli=$(mean "$aws1" "$aws2")
echo "dataset:                 $FILES files of $MIB MiB ($total MiB), $server_name on loopback"
echo "                         MiB/s   (runs)           client CPU s   server CPU s"
printf 'arca transfer:           %-7s (%s, %s)  %s, %s       %s, %s\n' "$arca" "$arca1" "$arca2" "$arca1_cpu" "$arca2_cpu" "$arca1_srv" "$arca2_srv"
printf 'aws s3 cp --recursive:   %-7s (%s, %s)  %s, %s       %s, %s\n' "$awscli" "$aws1" "$aws2" "$aws1_cpu" "$aws2_cpu" "$aws1_srv" "$aws2_srv"
python3 -c "print(f'ratio arca / aws cli:    {$arca/$awscli:.2f}')"
