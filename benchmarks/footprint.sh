#!/usr/bin/env bash
# What a message costs on a Pi-sized machine at the loads a field gateway really sees. In ONE run, one server at a
# time on the same cores with the same load generator (MQTT 5 QoS 1, 100-byte JSON, one message in flight per
# device): the gateway with its embedded defaults (SQLite WAL, file sink, dashboard on), MQTTnet's server alone
# (acks at once, stores nothing: the floor of the broker library the gateway is built on) and mosquitto with
# persistence on. Per row and server: CPU per message, bytes written to storage per message (/proc/<pid>/io
# write_bytes, the file sink's writes included), fsync + fdatasync calls per message (perf tracepoints), PUBACK
# p50/p99; then idle CPU with no device and with 1,000 connected silent devices. Prints one markdown table.
#   benchmarks/footprint.sh                    every row (about 10 minutes)
#   benchmarks/footprint.sh 100x1 idle         or some of: 100x1 1000x1 flat idle
#   --warmup S (10)  --seconds S (20)  --no-build  --servers "gateway mqttnet mosquitto"
#   --idle-warmup S (60): how long a server idles before its idle CPU is measured. A gateway's first minute is the JIT
#                    compiling what start-up ran (most of its CPU at 10 s); a Pi idles for hours
#   KEY=VALUE ...    extra settings for the gateway's environment, for A/B runs
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
warmup=10 idle_warmup=60 seconds=20 build=1 rows=() servers="gateway mqttnet mosquitto" env=()
while (( $# )); do
    case $1 in
        --warmup) warmup=$2; shift 2 ;;
        --idle-warmup) idle_warmup=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --servers) servers=$2; shift 2 ;;
        100x1|1000x1|flat|idle) rows+=("$1"); shift ;;
        *=*) env+=("$1"); shift ;;
        *) echo "unknown row or option $1" >&2; exit 2 ;;
    esac
done
(( ${#rows[@]} )) || rows=(100x1 1000x1 flat idle)

work=$(mktemp -d /tmp/gateway-footprint.XXXXXX)
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"
trap stop_servers_and_remove_work EXIT

(( build )) && build_release

start_server() { # start_server <gateway|mqttnet|mosquitto>: sets server_pid and server_port
    case $1 in
        gateway)
            rm -rf "$work/gateway"
            start_gateway gateway "$work/gateway" Gateway__Dashboard__Enabled=true "${env[@]}"
            wait_ready "$gateway_ops" 120
            server_pid=$gateway_pid server_port=$gateway_mqtt ;;
        mqttnet)
            server_port=$(free_port)
            # With the gateway's own thread-pool setting (idle workers do not spin), so both run on the same host tuning.
            DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 dotnet "$(load_dll)" broker --port "$server_port" >"$work/mqttnet.log" 2>&1 &
            server_pid=$!
            until (exec 3<>"/dev/tcp/127.0.0.1/$server_port") 2>/dev/null; do sleep 0.05; done ;;
        mosquitto)
            server_port=$(free_port)
            rm -rf "$work/mosquitto"; mkdir -p "$work/mosquitto"
            printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nmax_inflight_messages 0\nmax_queued_messages 0\n' \
                "$server_port" "$work/mosquitto" >"$work/mosquitto.conf"
            "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
            server_pid=$!
            until (exec 3<>"/dev/tcp/127.0.0.1/$server_port") 2>/dev/null; do sleep 0.05; done ;;
    esac
    pids+=("$server_pid")
}
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

# syncs <pid> <seconds>: fsync and fdatasync calls the process makes in the next <seconds>, by kernel tracepoint
# (no ptrace stops, so the server runs at its own speed).
syncs() {
    perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync -p "$1" -- sleep "$2" 2>&1 \
        | awk -F, '/sys_enter_f/ { n += $1 } END { print n + 0 }'
}

# measure <server> <devices> <rate, 0 = flat out>: one load window; prints "json<TAB>syncs".
measure() {
    local json sync_file="$work/syncs"
    ( sleep "$warmup"; syncs "$server_pid" "$seconds" >"$sync_file" ) &
    local sync_pid=$!
    json=$(dotnet "$(load_dll)" run --port "$server_port" --devices "$2" --rate "$3" --payload 100 --in-flight 1 \
        --warmup "$warmup" --duration "$seconds" --label "$1" --server-pid "$server_pid")
    wait "$sync_pid"
    printf '%s\t%s\n' "$json" "$(cat "$sync_file")"
}

per_message() { python3 -c 'import sys; n, m = float(sys.argv[1]), float(sys.argv[2]); print(f"{n / m:.2f}" if m else "-")' "$1" "$2"; }
ratio() { python3 -c 'import sys
try: print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}x")
except (ValueError, ZeroDivisionError): print("-")' "$1" "$2"; }
kib() { python3 -c 'import sys
try: print(f"{float(sys.argv[1]) / 1024:.1f}")
except ValueError: print("-")' "$1"; }

table=()
declare -A floor_cpu
load_row() { # load_row <row name> <devices> <rate> <label>
    local name=$1 devices=$2 rate=$3 label=$4
    for server in $servers; do
        log "$label: $server"
        start_server "$server"
        IFS=$'\t' read -r json sync_count < <(measure "$server" "$devices" "$rate")
        stop_server
        local cpu measured note=""
        cpu=$(json_field "$json" server_cpu_us); measured=$(json_field "$json" measured)
        [[ $server == mqttnet ]] && floor_cpu[$name]=$cpu
        [[ $server == gateway ]] && gateway_cpu=$cpu
        table+=("| $label | $server | $(json_field "$json" rate) | $cpu | - | $(kib "$(json_field "$json" server_write_bytes)") | $(per_message "$sync_count" "$measured") | $(json_field "$json" p50_ms) | $(json_field "$json" p99_ms) | $(json_field "$json" load_cpu_us) |")
    done
    if [[ -n ${floor_cpu[$name]:-} && -n ${gateway_cpu:-} ]]; then
        table+=("| $label | **gateway / MQTTnet alone** | | **$(ratio "$gateway_cpu" "${floor_cpu[$name]}")** | | | | | | |")
    fi
    gateway_cpu=
}

idle_row() {
    for server in $servers; do
        log "idle: $server, no device"
        start_server "$server"
        sleep "$idle_warmup"
        local t0 t1 hz
        hz=$(getconf CLK_TCK)
        t0=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
        local w0; w0=$(awk '/^write_bytes/ { print $2 }' "/proc/$server_pid/io")
        sleep "$seconds"
        t1=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
        local w1; w1=$(awk '/^write_bytes/ { print $2 }' "/proc/$server_pid/io")
        local percent; percent=$(python3 -c 'import sys; print(f"{(float(sys.argv[2]) - float(sys.argv[1])) / float(sys.argv[3]) / float(sys.argv[4]) * 100:.2f}")' "$t0" "$t1" "$hz" "$seconds")
        table+=("| idle, no device | $server | - | - | **$percent %** | $(( (w1 - w0) / seconds )) B/s | - | - | - | - |")
        log "idle: $server, 1,000 connected silent devices"
        local json
        json=$(dotnet "$(load_dll)" run --port "$server_port" --devices 1000 --silent --warmup "$warmup" --duration "$seconds" --label idle --server-pid "$server_pid")
        table+=("| idle, 1,000 connected silent devices | $server | - | - | **$(json_field "$json" server_core_percent) %** | - | - | - | - | - |")
        stop_server
    done
}

for row in "${rows[@]}"; do
    case $row in
        100x1) load_row 100x1 100 100 "100 devices x 1 msg/s" ;;
        1000x1) load_row 1000x1 1000 1000 "1,000 devices x 1 msg/s" ;;
        flat) load_row flat 100 0 "100 devices flat out" ;;
        idle) idle_row ;;
    esac
done

echo "Run of $(date -u '+%F %H:%M') UTC: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc), warm-up $warmup s (idle $idle_warmup s), measured $seconds s${env:+, gateway settings: ${env[*]}}"
echo
echo "| load | server | msgs/s | CPU µs/msg | idle CPU | KiB written/msg | syncs/msg | PUBACK p50 ms | p99 ms | load generator µs/msg |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${table[@]}"
