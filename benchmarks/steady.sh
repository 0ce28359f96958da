#!/usr/bin/env bash
# One gateway at steady state, for experiments on the MQTT hot path: starts the Release gateway on loopback, sends
# --warmup seconds of QoS 1 load unmeasured, then measures --seconds and prints the load generator's JSON line, the
# WAL commits of the window (count, operations, seconds spent committing), each thread's CPU (by thread name)
# and vmstat's view of the machine. The JSON line's server_cpu_us and load_cpu_us are the gateway's and the load
# generator's CPU per message. Extra KEY=VALUE arguments go to the gateway's environment, so A/B runs are:
#   benchmarks/steady.sh --devices 100                                          # baseline
#   benchmarks/steady.sh --devices 100 DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
#   benchmarks/steady.sh --pause-sinks                                          # ingest only, nothing delivered
# Options: --devices N (100) --rate R (0: flat out; messages per second over all devices) --warmup S (40) --seconds S (12)
#          --pause-sinks --no-build
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
devices=100 rate=0 warmup=40 seconds=12 pause=0 build=1 env=()
while (( $# )); do
    case $1 in
        --devices) devices=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --pause-sinks) pause=1; shift ;;
        --no-build) build=0; shift ;;
        *=*) env+=("$1"); shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/gateway-steady.XXXXXX)
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"
gateway_pid=
cleanup() { [[ -n $gateway_pid ]] && kill "$gateway_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

(( build )) && build_release
start_gateway gateway "$work/gateway" "${env[@]}"
wait_ready "$gateway_ops" 120
if (( pause )); then
    token=$(cat "$work/gateway/admin-token")
    for sink in $(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$gateway_ops/admin/v1/sinks" | python3 -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin)["items"]))'); do
        curl -sf -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$gateway_ops/admin/v1/sinks/$sink/pause" >/dev/null
        echo "paused sink $sink" >&2
    done
fi

# Per thread name: user+system clock ticks. The fields after the ")" of /proc/.../stat, since names hold spaces.
threads() {
    for task in /proc/"$gateway_pid"/task/*; do
        printf '%s\t%s\n' "$(cat "$task/comm" 2>/dev/null)" "$(sed 's/.*) //' "$task/stat" 2>/dev/null | awk '{ print $12 + $13 }')"
    done
}
commits() { curl -s "http://127.0.0.1:$gateway_ops/metrics" | grep -E '^gateway_wal_commit_(operations|duration_seconds)_(sum|count)' || true; }

load() { dotnet "$(load_dll)" run --port "$gateway_mqtt" --devices "$devices" --rate "$rate" --payload 100 --in-flight 1 "$@"; }
echo "warming up for $warmup s" >&2
load --duration "$warmup" >/dev/null
commits >"$work/commits0"; threads >"$work/threads0"
vmstat 2 $(( seconds / 2 )) >"$work/vmstat" &
load --duration "$seconds" --server-pid "$gateway_pid"
threads >"$work/threads1"; commits >"$work/commits1"
wait %% 2>/dev/null || true
python3 - "$work" "$seconds" <<'PY'
import sys
work, seconds = sys.argv[1], float(sys.argv[2])
def table(name, split):
    rows = {}
    for line in open(f"{work}/{name}"):
        parts = line.rstrip("\n").rsplit(split, 1)
        if len(parts) == 2 and parts[1].replace(".", "", 1).isdigit():
            rows[parts[0]] = rows.get(parts[0], 0) + float(parts[1])
    return rows
c0, c1 = table("commits0", " "), table("commits1", " ")
delta = {key.split("{")[0]: c1[key] - c0.get(key, 0) for key in c1}
count = delta.get("gateway_wal_commit_duration_seconds_count", 0)
if count:
    print(f"WAL commits: {count / seconds:.0f}/s, {delta['gateway_wal_commit_operations_sum'] / count:.1f} operations each, "
          f"{delta['gateway_wal_commit_duration_seconds_sum'] * 1000 / count:.2f} ms each, "
          f"writer committing {delta['gateway_wal_commit_duration_seconds_sum'] / seconds:.0%} of the time")
t0, t1 = table("threads0", "\t"), table("threads1", "\t")
total = 0
for name in sorted(t1):
    ticks = t1[name] - t0.get(name, 0); total += ticks
    if ticks > 0:
        print(f"  {name:<20} {ticks / seconds:5.1f} % of a core")
print(f"  {'gateway':<20} {total / seconds:5.1f} % of a core")
PY
cat "$work/vmstat"
