# Sourced by the benchmarks that need an S3 server on loopback: starts moto_server, or
# Garage when ARCA_BENCH_S3=garage and `garage` is on PATH (cargo install garage), with
# the buckets named in $S3_BUCKETS. Needs $work (a scratch directory, removed on exit).
# Sets: ep (endpoint URL), server (its pid), server_name, the AWS_* credentials, and
# server_cpu (the server's CPU seconds so far).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
ep="http://127.0.0.1:$port"
if [ "${ARCA_BENCH_S3:-moto}" = garage ]; then
  server_name="Garage $(garage --version 2>/dev/null | head -1)"
  cat > "$work/garage.toml" <<TOML
metadata_dir = "$work/garage-meta"
data_dir = "$work/garage-data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$(free_port)"
rpc_secret = "$(openssl rand -hex 32)"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$port"
root_domain = ".s3.garage.localhost"
TOML
  g() { garage -c "$work/garage.toml" "$@"; }
  # Started directly (not through g) so that $! is the server itself.
  garage -c "$work/garage.toml" server >"$work/garage.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do g status >/dev/null 2>&1 && break; sleep 0.2; done
  node=$(g status 2>/dev/null | awk '/^[0-9a-f]{16}/{print $1; exit}')
  g layout assign -z dc1 -c 100G "$node" >/dev/null
  g layout apply --version 1 >/dev/null
  keys=$(g key create bench)
  export AWS_ACCESS_KEY_ID=$(echo "$keys" | awk '/Key ID/{print $NF}')
  export AWS_SECRET_ACCESS_KEY=$(echo "$keys" | awk '/Secret key/{print $NF}')
  export AWS_DEFAULT_REGION=garage
  for b in $S3_BUCKETS; do
    g bucket create "$b" >/dev/null
    g bucket allow --read --write --owner "$b" --key bench >/dev/null
  done
else
  server_name="moto_server"
  moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$ep/moto-api/" >/dev/null && break; sleep 0.1; done
  for b in $S3_BUCKETS; do curl -sf -X PUT "$ep/$b" >/dev/null; done
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
fi
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14+$15)/hz}' "/proc/$server/stat"; }
