#!/usr/bin/env bash
# Cluster benchmark: aggregate MQTT QoS 1 ingest rate with 1 vs 3 gateway processes (silos) in cluster mode
# on one local PostgreSQL 15 server (fsync on), and the time from kill -9 of one node to every partition
# delivering again. Prints the BENCHMARKS.md rows. Needs Debian's postgresql package.
# Usage: benchmarks/cluster.sh [seconds per run, default 10] [MQTT clients in total, default 300]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
clients="${2:-300}"
pg_bin=/usr/lib/postgresql/15/bin
partitions=8
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# initdb refuses root: the server runs as the package's user, in a folder it owns.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

dotnet build -c Release Gateway.Silo -o "$work/gateway-bin" >/dev/null
dotnet build -c Release benchmarks/Gateway.Load -o "$work/load-bin" >/dev/null

pg_port=$(free_port)
[ "$(id -u)" = 0 ] && chown postgres "$work"
as_postgres "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $work -c max_connections=300" start >/dev/null
psql() { command psql -h 127.0.0.1 -p "$pg_port" -U postgres -At "$@"; }

declare -A mqtt_port ops_port node_pid
start_node() { # database node
    local db=$1 node=$2
    mqtt_port[$db$node]=$(free_port)
    ops_port[$db$node]=$(free_port)
    mkdir -p "$work/$db-$node"
    (cd "$work/$db-$node" && \
     Gateway__Cluster__Mode=PostgreSql \
     Gateway__Cluster__ConnectionString="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$db" \
     Gateway__Orleans__AdvertisedAddress=127.0.0.1 Gateway__Orleans__ClusterId="$db" Gateway__Orleans__ServiceId="$db" \
     Gateway__Orleans__SiloPort="$(free_port)" Gateway__Orleans__GatewayPort="$(free_port)" \
     Gateway__DataPath="$work/$db-$node" Gateway__Mqtt__Port="${mqtt_port[$db$node]}" \
     Gateway__Http__Port="$(free_port)" Gateway__Operations__Port="${ops_port[$db$node]}" \
     Gateway__Dashboard__Enabled=false Logging__LogLevel__Default=Warning Gateway__Mqtt__MaxConnectionsPerAddress=100000 \
     exec dotnet "$work/gateway-bin/Gateway.Silo.dll" >"$work/$db-$node.log" 2>&1) &
    node_pid[$db$node]=$!
    pids+=($!)
}
wait_ready() { # database node
    for _ in $(seq 1 900); do
        curl -sf "http://127.0.0.1:${ops_port[$1$2]}/readyz" >/dev/null && return 0
        sleep 0.2
    done
    echo "node $2 of $1 never became ready" >&2; tail -20 "$work/$1-$2.log" >&2; return 1
}
load() { # label port clients seconds -> one table row: label | clients | msgs/s | p50 | p99 | refused
    dotnet "$work/load-bin/Gateway.Load.dll" run --port "$2" --devices "$3" --duration "$4" --payload 100 --warmup 2 --in-flight 1 --label "$1" |
        python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("| " + " | ".join(str(r.get(k)) for k in ("label", "devices", "rate", "p50_ms", "p99_ms", "refused")) + " |")'
}

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo "| silos | clients | QoS 1 msgs/s (sum) | per node msgs/s |"
echo "| ---: | ---: | ---: | --- |"

psql -c "CREATE DATABASE one" >/dev/null
start_node one 0
wait_ready one 0
row=$(load "1 silo" "${mqtt_port[one0]}" "$clients" "$seconds")
rate=$(echo "$row" | awk -F'|' '{gsub(/ /,"",$4); print $4}')
echo "| 1 | $clients | $rate | $rate |"
echo "$row" >"$work/raw-1.txt"
kill "${node_pid[one0]}"

psql -c "CREATE DATABASE three" >/dev/null
for node in 0 1 2; do start_node three "$node"; done
for node in 0 1 2; do wait_ready three "$node"; done
loads=()
for node in 0 1 2; do
    load "node $node" "${mqtt_port[three$node]}" $((clients / 3)) "$seconds" >"$work/load-$node.txt" &
    loads+=($!)
done
wait "${loads[@]}"
rates=$(for node in 0 1 2; do awk -F'|' '{gsub(/ /,"",$4); print $4}' "$work/load-$node.txt"; done)
echo "| 3 | $clients | $(echo "$rates" | paste -sd+ | bc) | $(echo "$rates" | paste -sd' ') |"
echo
echo "load generator rows (label | clients | msgs/s | PUBACK p50 ms | p99 ms | refused):"
cat "$work/raw-1.txt" "$work"/load-?.txt

# Failover: load through nodes 0 and 1 (their partitions include some living on node 2), kill -9 node 2,
# then time until every partition has acked a delivery after the kill.
for node in 0 1; do
    load "failover $node" "${mqtt_port[three$node]}" $((clients / 3)) $((seconds * 4)) >/dev/null 2>&1 &
done
sleep "$seconds"
kill -9 "${node_pid[three2]}"
killed=$(now_ms)
resumed=""
for _ in $(seq 1 1200); do
    delivering=$(psql -d three -c "SELECT count(DISTINCT partition) FROM wal_delivery WHERE state = 2 AND updated_at > $killed")
    if [ "$delivering" -ge "$partitions" ]; then resumed=$(now_ms); break; fi
    sleep 0.1
done
echo
if [ -n "$resumed" ]; then
    echo "kill -9 of one of 3 nodes under load: all $partitions partitions delivering again after $(( (resumed - killed) ))ms"
else
    echo "kill -9 of one of 3 nodes under load: partitions did not all deliver within 120 s"
fi
