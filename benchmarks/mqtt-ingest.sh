#!/usr/bin/env bash
# MQTT ingest benchmark: the gateway (Release) and mosquitto (persistence on) measured by the same load
# generator in the same run, 100 and 1,000 QoS 1 clients, 100-byte payloads. Prints the BENCHMARKS.md table.
# Usage: benchmarks/mqtt-ingest.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

dotnet build -c Release Gateway.Silo -o "$work/gateway-bin" >/dev/null
dotnet build -c Release benchmarks/Gateway.MqttLoad -o "$work/load-bin" >/dev/null

mosquitto_port=$(free_port)
mkdir -p "$work/mosquitto"
cat > "$work/mosquitto.conf" <<CONF
listener $mosquitto_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/mosquitto/
max_inflight_messages 0
max_queued_messages 0
CONF
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)

gateway_port=$(free_port)
mkdir -p "$work/gateway"
Gateway__DataPath="$work/gateway" Gateway__Mqtt__Port="$gateway_port" \
    Gateway__Http__Port="$(free_port)" Gateway__Operations__Port="$(free_port)" \
    Gateway__Orleans__SiloPort="$(free_port)" Gateway__Orleans__GatewayPort="$(free_port)" \
    Logging__LogLevel__Default=Warning \
    dotnet "$work/gateway-bin/Gateway.Silo.dll" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_port "$mosquitto_port"
wait_port "$gateway_port"

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo "| broker | clients | QoS 1 msgs/s | PUBACK p50 ms | PUBACK p99 ms | refused |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for clients in 100 1000; do
    dotnet "$work/load-bin/Gateway.MqttLoad.dll" "gateway (durable at PUBACK)" "$gateway_port" "$clients" "$seconds"
    dotnet "$work/load-bin/Gateway.MqttLoad.dll" "mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') (persistence true)" "$mosquitto_port" "$clients" "$seconds"
done
