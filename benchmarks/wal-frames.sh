#!/usr/bin/env bash
# What the gateway's SQLite journal writes, by table and index, under one paced load: starts the Release gateway with
# its embedded defaults, runs the load generator (MQTT 5 QoS 1, 100-byte JSON, one in flight per device), then reads
# the journal's frames since its last checkpoint reset and names the b-tree each one wrote (benchmarks/tools/wal_frames.py).
# The profile behind the bytes rows of footprint.sh: which pages each message costs, and how often they are rewritten.
#   benchmarks/wal-frames.sh [devices (1000)] [msgs/s in all (1000)] [--seconds S (20)] [--no-build] [KEY=VALUE ...]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
devices=1000 rate=1000 seconds=20 build=1 env=() positional=()
while (( $# )); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *=*) env+=("$1"); shift ;;
        *) positional+=("$1"); shift ;;
    esac
done
(( ${#positional[@]} > 0 )) && devices=${positional[0]}
(( ${#positional[@]} > 1 )) && rate=${positional[1]}

work=$(mktemp -d /tmp/gateway-wal-frames.XXXXXX)
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"
trap stop_servers_and_remove_work EXIT
(( build )) && build_release

start_gateway gateway "$work/gateway" Gateway__Dashboard__Enabled=true "${env[@]}"
pids+=("$gateway_pid")
wait_ready "$gateway_ops" 120
log "load: $devices devices, $rate msgs/s for $seconds s"
dotnet "$(load_dll)" run --port "$gateway_mqtt" --devices "$devices" --rate "$rate" --payload 100 --in-flight 1 \
    --warmup 5 --duration "$seconds" --label wal-frames --server-pid "$gateway_pid" >"$work/load.json"
python3 "$repo/benchmarks/tools/wal_frames.py" "$work/gateway/gateway.db"
