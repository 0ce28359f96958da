# Shared by the benchmark scripts: build once, free loopback ports, start the gateway and wait for /readyz, log, clean up.
# Source it; it expects $repo (the repository root) and $work (a scratch folder) to be set.

gateway_dll() { echo "$repo/Gateway.Silo/bin/Release/net10.0/Gateway.Silo.dll"; }
load_dll() { echo "$repo/benchmarks/Gateway.Load/bin/Release/net10.0/Gateway.Load.dll"; }

build_release() {
    echo "building Release..." >&2
    dotnet build "$repo/Orleans.Gateway.sln" -c Release -nologo -v quiet >&2
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Milliseconds since the epoch, for timing start-ups.
now_ms() { date +%s%3N; }

# wait_ready <operations port> <deadline seconds>: until /readyz answers 200.
wait_ready() {
    local deadline=$(( $(date +%s) + $2 ))
    until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz"; do
        if (( $(date +%s) > deadline )); then echo "not ready within $2 s" >&2; return 1; fi
        sleep 0.05
    done
}

# start_gateway <name> <data folder> [KEY=VALUE...]: starts the Release gateway in the background on fresh
# loopback ports. Sets <name>_pid, <name>_mqtt, <name>_http, <name>_ops. Extra settings are environment variables.
start_gateway() {
    local name=$1 data=$2; shift 2
    local mqtt=${GATEWAY_MQTT_PORT:-$(free_port)} http=${GATEWAY_HTTP_PORT:-$(free_port)} ops=${GATEWAY_OPS_PORT:-$(free_port)}
    local silo=${GATEWAY_SILO_PORT:-$(free_port)} gw=${GATEWAY_ORLEANS_GATEWAY_PORT:-$(free_port)}
    mkdir -p "$data"
    # Every simulated device connects from 127.0.0.1, so the per-address connection cap is lifted to the global one.
    env Gateway__DataPath="$data" Gateway__Mqtt__Port="$mqtt" Gateway__Http__Port="$http" Gateway__Operations__Port="$ops" \
        Gateway__Orleans__SiloPort="$silo" Gateway__Orleans__GatewayPort="$gw" Gateway__Mqtt__MaxConnectionsPerAddress=100000 \
        Logging__LogLevel__Default=Warning "$@" \
        dotnet "$(gateway_dll)" >>"$work/$name.log" 2>&1 &
    printf -v "${name}_pid" '%s' "$!"
    printf -v "${name}_mqtt" '%s' "$mqtt"
    printf -v "${name}_http" '%s' "$http"
    printf -v "${name}_ops" '%s' "$ops"
}

# Resident set size of a process in MB.
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# json_field <json line> <field>: one field of the load generator's summary line.
json_field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"; }

# Progress lines on stderr, stamped with the time.
log() { echo "[$(date +%T)] $*" >&2; }

# For `trap stop_servers_and_remove_work EXIT` in a script that puts every server it starts in $pids.
pids=()
stop_servers_and_remove_work() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
