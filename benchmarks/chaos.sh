#!/usr/bin/env bash
# Chaos run: sustained MQTT QoS 1 load while the gateway is killed with SIGKILL at random moments, the cloud
# receiver is stopped and started, and the data disk (a small loop-mounted ext4 image, or a size-limited tmpfs
# when loop devices are not available) is filled until ingest refuses and then freed. At the end the checker
# compares every acknowledged message with what the file sink and the cloud received: 0 missing, per-device
# order kept, or the script exits non-zero. Two priority lanes are in use (devices chaos-1* critical, the rest bulk).
# Needs root (mount).
#   benchmarks/chaos.sh [--cycles 20] [--devices 50] [--rate 500] [--no-build]
# With --power-cut, the power is cut instead (--cycles times): the data folder is on powercutfs (tests/PowerCutFs),
# which drops everything not made durable, tears the last unsynced write, and is mounted again on what survived. It
# runs the suite's power-cut test (PowerCutGatewayTests, 16 MQTT and HTTP devices, file and http sinks) with that many
# cuts; needs gcc, pkg-config, fuse3 and libfuse3-dev.
#   benchmarks/chaos.sh --power-cut [--cycles 20] [--no-build]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cycles=20 devices=50 rate=500 build=1 power_cut=0
while (( $# )); do
    case $1 in
        --power-cut) power_cut=1; shift ;;
        --cycles) cycles=$2; shift 2 ;;
        --devices) devices=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/gateway-chaos.XXXXXX)
data="$work/data"
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"
gateway_pid="" cloud_pid="" load_pid="" mounted=""
cleanup() {
    for pid in $load_pid $gateway_pid $cloud_pid; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n $mounted ]] && umount "$data" 2>/dev/null || true
    echo "logs and data kept in $work" >&2
}
trap cleanup EXIT

(( build )) && build_release

if (( power_cut )); then
    log "power-cut run: $cycles cuts"
    # CI=true: a missing tool fails the run instead of skipping the test.
    verdict=0
    CI=true GATEWAY_POWER_CUTS=$cycles GATEWAY_POWER_CUT_REPORT="$work/power-cut.txt" \
        dotnet test "$repo/tests/Gateway.Tests" -c Release --no-build -nologo \
        --filter "FullyQualifiedName~PowerCutGatewayTests.Every_acknowledged_message_reaches_both_sinks" \
        --logger "console;verbosity=detailed" >"$work/power-cut.log" 2>&1 || verdict=1
    grep -E '^ +cut [0-9]+:' "$work/power-cut.log" | sed 's/^ *//' >&2 || true
    echo "## Power-cut run"
    echo
    echo "- $(date -u +%F), $cycles power cuts at random moments (150-700 acknowledgements apart) of a data folder on powercutfs (unsynced data and names dropped, last unsynced write torn)"
    echo "- load: 8 MQTT QoS 1 devices (MQTT 3.1.1 and 5) and 8 HTTP devices, 1 in flight each; file sink (64 KiB files) and http sink"
    echo "- result: $(cat "$work/power-cut.txt" 2>/dev/null || echo "no result; see $work/power-cut.log")"
    exit $verdict
fi

mkdir -p "$data"
if truncate -s 320M "$work/disk.img" && mkfs.ext4 -q -F "$work/disk.img" && mount -o loop "$work/disk.img" "$data"; then
    mounted=loop; disk="loop-mounted ext4 image, 320 MB"
else
    mount -t tmpfs -o size=320m tmpfs "$data"; mounted=tmpfs; disk="tmpfs, size=320m"
fi
log "data folder on a $disk"

# Fixed ports across restarts: the devices reconnect to the same address.
export GATEWAY_MQTT_PORT=$(free_port) GATEWAY_HTTP_PORT=$(free_port) GATEWAY_OPS_PORT=$(free_port)
export GATEWAY_SILO_PORT=$(free_port) GATEWAY_ORLEANS_GATEWAY_PORT=$(free_port)
cloud_port=$(free_port)
settings=(
    Gateway__Sinks__0__Name=file Gateway__Sinks__0__Type=file "Gateway__Sinks__0__Path=$data/sink"
    Gateway__Sinks__1__Name=cloud Gateway__Sinks__1__Type=http "Gateway__Sinks__1__Url=http://127.0.0.1:$cloud_port/ingest"
    Gateway__Sinks__1__AllowInsecure=true Gateway__Sinks__1__CircuitOpenDuration=00:00:03
    Gateway__Wal__DiskFreeFloorBytes=$((48 * 1024 * 1024)) Gateway__Wal__RetryAfterSeconds=1
    # Two lanes in use: devices chaos-1 and chaos-10..19 are critical, the rest bulk, which keeps a disk floor of its own.
    Gateway__Lanes__0__Name=critical Gateway__Lanes__0__Priority=0 'Gateway__Lanes__0__Devices__0=chaos-1*'
    Gateway__Lanes__1__Name=bulk Gateway__Lanes__1__Priority=9 Gateway__Lanes__1__Share=0.9
    Gateway__Lanes__1__DiskFreeFloorBytes=$((64 * 1024 * 1024))
)
start_cloud() {
    dotnet "$(load_dll)" receive --port "$cloud_port" --out "$work/cloud.ndjson" >>"$work/cloud.log" 2>&1 &
    cloud_pid=$!
}
start() {
    local started; started=$(now_ms)
    start_gateway gateway "$data" "${settings[@]}"
    wait_ready "$GATEWAY_OPS_PORT" 120
    log "gateway $gateway_pid ready after $(( $(now_ms) - started )) ms"
}
refusals() { curl -s "http://127.0.0.1:$GATEWAY_OPS_PORT/metrics" | awk '/^gateway_ingest_refusals_total/ && /disk-full|unavailable/ { sum += $NF } END { print sum + 0 }'; }

start_cloud
start
# One message in flight per device: with more, a message refused while the disk is full can be overtaken by the
# next one, accepted a moment later when space returns; that is the device's order, not the gateway's to keep.
dotnet "$(load_dll)" run --port "$GATEWAY_MQTT_PORT" --devices "$devices" --rate "$rate" --in-flight 1 --payload 200 \
    --duration 86400 --timeout 5 --acked "$work/acked.txt" --label chaos >"$work/load.json" 2>"$work/load.log" &
load_pid=$!

kills=0 disk_refused="not run" cloud_outage="not run"
for (( cycle = 1; cycle <= cycles; cycle++ )); do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 4.0), 2))')"
    kill -0 "$load_pid" 2>/dev/null || { log "the load generator died:"; cat "$work/load.log" >&2; exit 1; }
    kill -9 "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true
    kills=$((kills + 1))
    log "cycle $cycle: gateway killed with SIGKILL ($(wc -l < "$work/acked.txt" 2>/dev/null || echo 0) acknowledgements logged so far)"
    case $cycle in
        5) kill -TERM "$cloud_pid"; wait "$cloud_pid" 2>/dev/null || true; cloud_pid=""; log "cloud receiver stopped"; cloud_outage="stopped at cycle 5" ;;
        10) start_cloud; log "cloud receiver started"; cloud_outage="$cloud_outage, started again at cycle 10" ;;
    esac
    start
    if (( cycle == cycles / 2 + 2 )); then
        before=$(refusals)
        log "filling the data disk"
        # Leave 1 MB: far below the free-space floor, so ingest must refuse (and SQLite may hit ENOSPC as well).
        fallocate -l $(( $(df -B1 --output=avail "$data" | tail -1) - 1024 * 1024 )) "$data/filler"
        for _ in $(seq 1 300); do (( $(refusals) > before )) && break; sleep 0.1; done
        refused=$(( $(refusals) - before ))
        log "disk full ($(df -h --output=avail "$data" | tail -1) free): $refused publishes refused"
        sleep 2
        rm -f "$data/filler"
        wait_ready "$GATEWAY_OPS_PORT" 60
        disk_refused="$refused publishes refused while full, ingest resumed after freeing"
        log "disk freed, gateway ready again"
    fi
done

# A run of fewer than 10 cycles stopped the cloud without reaching the cycle that starts it again: the check needs it up.
if [[ -z $cloud_pid ]]; then
    start_cloud; log "cloud receiver started before the final check"; cloud_outage="$cloud_outage, started again after the last cycle"
fi

log "stopping the load"
kill -TERM "$load_pid" 2>/dev/null || true
wait "$load_pid" || { log "the load generator failed:"; cat "$work/load.log" >&2; exit 1; }
load_pid=""
log "load: $(cat "$work/load.json")"
verdict=1
for _ in $(seq 1 60); do
    if dotnet "$(load_dll)" check --acked "$work/acked.txt" --sink "$data/sink" >"$work/check-file.txt" &&
       dotnet "$(load_dll)" check --acked "$work/acked.txt" --sink "$work/cloud.ndjson" >"$work/check-cloud.txt"; then
        verdict=0; break
    fi
    sleep 2
done
echo "## Chaos run"
echo
echo "- $(date -u +%F), $kills SIGKILLs of the gateway at random moments (0.5-4 s apart, after each restart's readiness)"
echo "- load: $devices MQTT 5 QoS 1 devices, 1 in flight each, $rate msgs/s offered, 200-byte payloads: $(cat "$work/load.json")"
echo "- lanes: critical (priority 0, devices chaos-1*) and bulk (priority 9, share 0.9, disk floor 64 MiB); cloud receiver: $cloud_outage; data disk: $disk; disk full: $disk_refused"
echo "- file sink:  $(cat "$work/check-file.txt")"
echo "- cloud sink: $(cat "$work/check-cloud.txt" 2>/dev/null || echo 'not checked')"
exit $verdict
