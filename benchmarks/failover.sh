#!/usr/bin/env bash
# Replicated database benchmark (docs/cluster.md): one gateway in cluster mode, first on a single PostgreSQL 15 server,
# then on three PostgreSQL servers run by Patroni over one etcd member (primary, synchronous standby in strict mode,
# second standby), all with fsync on, on this machine's loopback. The same MQTT 5 QoS 1 loads on both: paced
# (100 devices x 1 msg/s) and flat out. Then, under the paced load, kill -9 of the primary (its server, every backend
# and its Patroni at once) and the time until Patroni has promoted a standby and until the gateway stores messages
# again, once with docs/cluster.md's Patroni timings (ttl 30, loop_wait 10) and once with short ones (ttl 10, loop_wait 1).
# Needs Debian's postgresql, patroni and etcd-server packages. Prints the BENCHMARKS.md rows.
# Usage: benchmarks/failover.sh [seconds per load run, default 20] [devices, default 100]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
seconds="${1:-20}"
devices="${2:-100}"
work=$(mktemp -d)
pg_bin=/usr/lib/postgresql/15/bin
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"

# PostgreSQL refuses root: servers, Patroni and its folders belong to the package's user.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"

# Every server this script started, found again at exit by its folder.
stop_everything() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    # Patroni under runuser, and the servers Patroni daemonized, are no children of this script's jobs: every one of
    # them, and the single server, has this run's folder on its command line.
    pkill -9 -f "$work/" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap stop_everything EXIT

# load <label> <mqtt port> <rate, 0 = flat out> <seconds>: one JSON summary line from the load generator.
load() {
    dotnet "$(load_dll)" run --port "$2" --devices "$devices" --rate "$3" --duration "$4" --warmup 3 --payload 100 \
        --timeout 5 --label "$1"
}
row() { # <layout> <json>
    echo "| $1 | $(json_field "$2" label) | $(json_field "$2" rate) | $(json_field "$2" p50_ms) | $(json_field "$2" p99_ms) | $(json_field "$2" refused) |"
}
stored_total() { # <ops port>: messages the gateway has stored since it started
    curl -sf --max-time 1 "http://127.0.0.1:$1/metrics" | awk '/^gateway_ingest_messages_total\{.*outcome="stored"/ { split($0, kv, "} "); split(kv[2], value, " "); sum += value[1] } END { print sum + 0 }'
}

gateway_on() { # <name> <connection string>
    start_gateway "$1" "$work/$1" Gateway__Cluster__Mode=PostgreSql Gateway__Cluster__ConnectionString="$2" \
        Gateway__Orleans__AdvertisedAddress=127.0.0.1 Gateway__Orleans__ClusterId="$1" Gateway__Orleans__ServiceId="$1" \
        Gateway__Dashboard__Enabled=false
    local pid_var="${1}_pid"; pids+=("${!pid_var}")
}

# --- etcd and Patroni -------------------------------------------------------------------------------------------
etcd_port=$(free_port)
start_etcd() {
    local peer; peer=$(free_port)
    etcd --name dcs --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "dcs=http://127.0.0.1:$peer" \
        --log-level warn >>"$work/etcd.log" 2>&1 &
    pids+=($!)
    until curl -sf --max-time 1 "http://127.0.0.1:$etcd_port/health" >/dev/null; do sleep 0.1; done
}

declare -A rest_port pg_port
write_node() { # <scope> <node> <ttl> <loop_wait> <retry_timeout>
    local folder="$work/$1-$2"
    mkdir -p "$folder"
    rest_port[$1$2]=$(free_port)
    pg_port[$1$2]=$(free_port)
    cat >"$folder/patroni.yml" <<EOF
scope: $1
name: $2
restapi: {listen: '127.0.0.1:${rest_port[$1$2]}', connect_address: '127.0.0.1:${rest_port[$1$2]}'}
etcd3: {hosts: '127.0.0.1:$etcd_port'}
bootstrap:
  dcs:
    ttl: $3
    loop_wait: $4
    retry_timeout: $5
    synchronous_mode: true
    synchronous_mode_strict: true
    synchronous_node_count: 1
    postgresql:
      parameters: {max_connections: 300, synchronous_commit: 'on', wal_retrieve_retry_interval: 1s}
  initdb: [{encoding: UTF8}, {auth: trust}]
postgresql:
  listen: '127.0.0.1:${pg_port[$1$2]}'
  connect_address: '127.0.0.1:${pg_port[$1$2]}'
  data_dir: $folder/data
  bin_dir: $pg_bin
  pgpass: $folder/pgpass
  authentication: {replication: {username: postgres}, superuser: {username: postgres}}
  parameters: {unix_socket_directories: '$folder'}
  pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust']
EOF
    [ "$(id -u)" = 0 ] && chown -R postgres "$folder"
}
start_node() { # <scope> <node>
    as_postgres patroni "$work/$1-$2/patroni.yml" >>"$work/$1-$2/patroni.log" 2>&1 </dev/null &
    pids+=($!)
}
# answers <scope> <node> <check>: Patroni's REST API says 200 to /primary or /sync.
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:${rest_port[$1$2]}/$3")" = 200 ]; }
wait_for() { # <what> <seconds> <command...>
    local what=$1 deadline=$(( $(date +%s) + $2 )); shift 2
    until "$@"; do
        if (( $(date +%s) > deadline )); then echo "no $what within the deadline" >&2; return 1; fi
        sleep 0.1
    done
}
leader_of() { for node in n1 n2 n3; do answers "$1" "$node" primary && { echo "$node"; return 0; }; done; return 1; }
has_sync() { for node in n1 n2 n3; do answers "$1" "$node" sync && return 0; done; return 1; }
start_patroni_cluster() { # <scope> <ttl> <loop_wait> <retry_timeout>
    for node in n1 n2 n3; do write_node "$1" "$node" "$2" "$3" "$4"; done
    start_node "$1" n1
    wait_for "leader of $1" 90 leader_of "$1" >/dev/null
    start_node "$1" n2
    start_node "$1" n3
    wait_for "synchronous standby in $1" 120 has_sync "$1"
    command psql -h 127.0.0.1 -p "${pg_port[${1}n1]}" -U postgres -Atqc "CREATE DATABASE gateway"
}
connection_string() { # <scope>
    echo "Host=127.0.0.1:${pg_port[${1}n1]},127.0.0.1:${pg_port[${1}n2]},127.0.0.1:${pg_port[${1}n3]};Username=postgres;Database=gateway;Target Session Attributes=read-write;Host Recheck Seconds=1;Timeout=3;Command Timeout=15"
}
# kill_node <scope> <node>: the Pi loses power: its PostgreSQL server and every backend, then its Patroni.
kill_node() {
    local pidfile="$work/$1-$2/data/postmaster.pid" postmaster
    postmaster=$(head -1 "$pidfile")
    kill -STOP "$postmaster" $(pgrep -P "$postmaster") 2>/dev/null || true
    kill -9 "$postmaster" $(pgrep -P "$postmaster") 2>/dev/null || true
    # runuser and the Patroni it runs, found by their command line.
    pkill -9 -f "$work/$1-$2/patroni.yml" 2>/dev/null || true
}

build_release
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo
echo "| database | load | msgs/s | PUBACK p50 ms | p99 ms | refused |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"

# --- one PostgreSQL server, the baseline ------------------------------------------------------------------------------
log "single server"
single_port=$(free_port)
as_postgres "$pg_bin/initdb" -D "$work/single" -U postgres --auth=trust >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$work/single" -l "$work/single.log" -w \
    -o "-p $single_port -c listen_addresses=127.0.0.1 -k $work -c max_connections=300" start >/dev/null
command psql -h 127.0.0.1 -p "$single_port" -U postgres -Atqc "CREATE DATABASE gateway"
gateway_on single "Host=127.0.0.1:$single_port;Username=postgres;Database=gateway"
wait_ready "$single_ops" 180
row "one server" "$(load "paced $devices msgs/s" "$single_mqtt" "$devices" "$seconds")"
row "one server" "$(load "flat out" "$single_mqtt" 0 "$seconds")"
kill "$single_pid"; wait "$single_pid" 2>/dev/null || true
as_postgres "$pg_bin/pg_ctl" -D "$work/single" -m fast stop >/dev/null

# --- Patroni: primary + synchronous standby + standby -------------------------------------------------------------
start_etcd
failover() { # <scope> <ttl> <loop_wait> <retry_timeout>: a cluster, its load rows, a failover under paced load
    local scope=$1
    log "Patroni ttl $2, loop_wait $3"
    start_patroni_cluster "$@"
    gateway_on "$scope" "$(connection_string "$scope")"
    local ops_var="${scope}_ops" mqtt_var="${scope}_mqtt"
    local ops=${!ops_var} mqtt=${!mqtt_var}
    wait_ready "$ops" 180
    if [ "$scope" = fast ]; then
        row "Patroni, synchronous standby" "$(load "paced $devices msgs/s" "$mqtt" "$devices" "$seconds")"
        row "Patroni, synchronous standby" "$(load "flat out" "$mqtt" 0 "$seconds")"
    fi

    load "failover" "$mqtt" "$devices" $(( $2 * 3 + 60 )) >"$work/$scope-failover.json" &
    local load_pid=$!
    sleep 10
    local old; old=$(leader_of "$scope")
    kill_node "$scope" "$old"
    local killed; killed=$(now_ms)
    # Stores committed before the kill may still be counted for a moment; the count a second later is the stall's.
    sleep 1
    local before; before=$(stored_total "$ops")
    local promoted="" resumed=""
    for _ in $(seq 1 2400); do
        if [ -z "$promoted" ]; then
            for node in n1 n2 n3; do
                [ "$node" != "$old" ] && answers "$scope" "$node" primary && promoted=$(now_ms) && break
            done
        fi
        if [ -z "$resumed" ] && (( $(stored_total "$ops") > before )); then resumed=$(now_ms); fi
        [ -n "$promoted" ] && [ -n "$resumed" ] && break
        sleep 0.1
    done
    wait "$load_pid" || true
    failover_rows+=("| ttl $2 s, loop_wait $3 s | $(( (${promoted:-0} - killed) )) | $(( (${resumed:-0} - killed) )) | $(json_field "$(cat "$work/$scope-failover.json")" refused) |")
    local gateway_pid_var="${scope}_pid"
    kill "${!gateway_pid_var}"
}
failover_rows=()
failover fast 10 1 4
failover documented 30 10 10

echo
echo "| Patroni timings | primary killed -> standby promoted, ms | primary killed -> gateway storing again, ms | refusals during the run |"
echo "| --- | ---: | ---: | ---: |"
printf '%s\n' "${failover_rows[@]}"
