#!/usr/bin/env bash
# The proof table: builds Release, starts the gateway (and mosquitto with persistence on, and a local HTTP
# receiver as the cloud) on loopback, runs the scenarios and prints ONE markdown table. Progress goes to stderr.
#   benchmarks/proof.sh                          every scenario (about 14 minutes on 2 quiet cores)
#   benchmarks/proof.sh mqtt half-rate           or some of: mqtt half-rate http drain rss cold-start
#   --seconds N   measured seconds per MQTT/HTTP row (default 10)      --no-build   use the last Release build
#   --warmup N    seconds sent but not measured before each MQTT/HTTP row (default 40): the figures are steady
#                 state, after the JIT has compiled the hot path, as on a gateway that has run for a while
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=10 warmup=40 build=1 scenarios=()
while (( $# )); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        mqtt|half-rate|http|drain|rss|cold-start) scenarios+=("$1"); shift ;;
        *) echo "unknown scenario or option $1" >&2; exit 2 ;;
    esac
done
(( ${#scenarios[@]} )) || scenarios=(mqtt half-rate http drain rss cold-start)
wants() { [[ " ${scenarios[*]} " == *" $1 "* ]]; }

work=$(mktemp -d /tmp/gateway-proof.XXXXXX)
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"
trap stop_servers_and_remove_work EXIT
load() { dotnet "$(load_dll)" run "$@"; }
row() { echo "| $1 | $2 | $3 | $4 | $5 | $6 |"; }
# rate_ratio <json> <baseline json>: the first run's rate over the baseline's, two decimals ("-" without a baseline).
rate_ratio() {
    python3 -c 'import sys; r, b = float(sys.argv[1]), float(sys.argv[2]); print(f"{r / b:.2f}" if b else "-")' \
        "$(json_field "$1" rate)" "$(json_field "$2" rate)"
}
# cpu_note <json>: CPU per measured message of the server under test and of the load generator, which share the machine.
cpu_note() { echo "CPU per message: server $(json_field "$1" server_cpu_us) µs, load generator $(json_field "$1" load_cpu_us) µs"; }
summary_row() { # summary_row <label> <json> <notes>
    row "$1" "$(json_field "$2" rate)" "$(json_field "$2" p50_ms)" "$(json_field "$2" p99_ms)" "$(json_field "$2" p999_ms)" "$3"
}

(( build )) && build_release
mqtt_args=(--payload 100 --warmup "$warmup" --duration "$seconds" --in-flight 1)

table=()
if wants mqtt || wants half-rate; then
    start_gateway gateway "$work/gateway"; pids+=("$gateway_pid")
    wait_ready "$gateway_ops" 120
fi

if wants mqtt; then
    mosquitto_port=$(free_port)
    mkdir -p "$work/mosquitto"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nmax_inflight_messages 0\nmax_queued_messages 0\n' \
        "$mosquitto_port" "$work/mosquitto" >"$work/mosquitto.conf"
    mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    "$mosquitto" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    mosquitto_pid=$!; pids+=("$mosquitto_pid")
    # mosquitto -h exits non-zero by design; only its first line is wanted.
    mosquitto_version=$({ "$mosquitto" -h 2>/dev/null || true; } | head -1 | awk '{print $3}')
    # MQTTnet's server alone, acking at once: how much of the gap to mosquitto is the broker library itself.
    bare_port=$(free_port)
    dotnet "$(load_dll)" broker --port "$bare_port" >"$work/bare.log" 2>&1 &
    bare_pid=$!; pids+=("$bare_pid")
    for devices in 100 1000; do
        log "mqtt: $devices devices against the gateway, then mosquitto, then MQTTnet alone"
        gateway_run=$(load --port "$gateway_mqtt" --devices "$devices" "${mqtt_args[@]}" --label gateway --server-pid "$gateway_pid")
        mosquitto_run=$(load --port "$mosquitto_port" --devices "$devices" "${mqtt_args[@]}" --label mosquitto --server-pid "$mosquitto_pid")
        bare_run=$(load --port "$bare_port" --devices "$devices" "${mqtt_args[@]}" --label mqttnet --server-pid "$bare_pid")
        ratio=$(rate_ratio "$gateway_run" "$mosquitto_run")
        table+=("$(summary_row "MQTT QoS 1, $devices devices: gateway (durable at PUBACK)" "$gateway_run" "gateway/mosquitto rate **${ratio}x**; $(cpu_note "$gateway_run"); refused $(json_field "$gateway_run" refused)")")
        table+=("$(summary_row "MQTT QoS 1, $devices devices: mosquitto $mosquitto_version (persistence true)" "$mosquitto_run" "same load generator, same run; $(cpu_note "$mosquitto_run")")")
        bare_ratio=$(rate_ratio "$bare_run" "$mosquitto_run")
        table+=("$(summary_row "MQTT QoS 1, $devices devices: MQTTnet 5 server alone (acks at once, stores nothing)" "$bare_run" "MQTTnet/mosquitto rate **${bare_ratio}x**: the library's own ceiling; $(cpu_note "$bare_run")")")
        [[ $devices == 100 ]] && peak=$(json_field "$gateway_run" rate)
    done
fi

if wants half-rate; then
    if [[ -z ${peak:-} ]]; then
        log "half-rate: measuring the peak first"
        peak=$(json_field "$(load --port "$gateway_mqtt" --devices 100 "${mqtt_args[@]}")" rate)
    fi
    half=$(python3 -c 'import sys; print(round(float(sys.argv[1]) / 2))' "$peak")
    log "half-rate: 100 devices at $half msgs/s"
    run=$(load --port "$gateway_mqtt" --devices 100 "${mqtt_args[@]}" --rate "$half" --label half)
    table+=("$(summary_row "MQTT QoS 1, 100 devices at half the peak rate ($half msgs/s offered)" "$run" "p99 target <= 20 ms")")
fi

if wants http; then
    start_gateway http_gateway "$work/http"; pids+=("$http_gateway_pid")
    wait_ready "$http_gateway_ops" 120
    log "http: 64 devices, one message per request"
    run=$(load --transport http --port "$http_gateway_http" --devices 64 --payload 100 --warmup "$warmup" --duration "$seconds" --label http)
    table+=("$(summary_row "HTTP ingest, 64 devices, one message per request" "$run" "latency per request (202 after commit)")")
    kill "$http_gateway_pid"
fi

if wants drain; then
    log "drain: the http-drain scenario of Gateway.Benchmarks (1,000,000 pending to a local HTTP receiver)"
    drain=$(dotnet "$repo/benchmarks/Gateway.Benchmarks/bin/Release/net10.0/Gateway.Benchmarks.dll" http-drain --silo "$(gateway_dll)" \
        | awk -F'|' '/backlog to HTTP sink/ { gsub(/ /, "", $5); print $5 }')
    table+=("$(row "Backlog drain: 1,000,000 pending to a local HTTP receiver" "$drain" - - - "batches of 1,000; target >= 50,000 msgs/s")")
fi

if wants rss; then
    start_gateway rss_gateway "$work/rss"; pids+=("$rss_gateway_pid")
    wait_ready "$rss_gateway_ops" 120
    for devices in 10000 100000; do
        log "rss: one HTTP message from each of $devices devices"
        load --transport http --port "$rss_gateway_http" --devices "$devices" --count "$devices" --concurrency 64 --payload 100 >/dev/null
        active=$(curl -s "http://127.0.0.1:$rss_gateway_ops/metrics" | awk '/^gateway_devices_active/ { print $NF }')
        table+=("$(row "RSS after one message from $devices more devices" - - - - "**$(rss_mb "$rss_gateway_pid") MB** resident, gateway_devices_active $active; target 10k <= 300 MB")")
    done
    kill "$rss_gateway_pid"
fi

if wants cold-start; then
    log "cold-start: the cold-start scenario of Gateway.Benchmarks"
    while IFS='|' read -r _ scenario _ seconds_column _; do
        table+=("$(row "Cold start to ready,${scenario#*:}" - - - - "**$(echo "$seconds_column" | tr -d ' ') s** from process start to /readyz 200; target <= 3 s")")
    done < <(dotnet "$repo/benchmarks/Gateway.Benchmarks/bin/Release/net10.0/Gateway.Benchmarks.dll" cold-start --silo "$(gateway_dll)" | grep '^| cold-start')
fi

echo "Run of $(date -u '+%F %H:%M') UTC: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario | msgs/s | p50 ms | p99 ms | p999 ms | notes |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${table[@]}"
