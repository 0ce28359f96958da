#!/usr/bin/env bash
# What an idle gateway costs with and without a Prometheus-style scrape: starts the Release gateway on loopback,
# lets it settle --settle seconds, then measures --seconds with no scrape and --seconds with GET /metrics every
# --interval seconds, and prints bytes written per minute (/proc/<pid>/io write_bytes) and CPU (% of one core).
# Options: --settle S (60) --seconds S (120) --interval S (15) --no-build. Extra KEY=VALUE arguments go to the gateway.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
settle=60 seconds=120 interval=15 build=1 env=()
while (( $# )); do
    case $1 in
        --settle) settle=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --interval) interval=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *=*) env+=("$1"); shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/gateway-idle-scrape.XXXXXX)
# shellcheck source=benchmarks/lib.sh
source "$repo/benchmarks/lib.sh"
trap stop_servers_and_remove_work EXIT

(( build )) && build_release
start_gateway gateway "$work/gateway" "${env[@]}"
pids+=("$gateway_pid")
wait_ready "$gateway_ops" 120
log "settling for $settle s"
sleep "$settle"

written() { awk '/^write_bytes:/ { print $2 }' "/proc/$gateway_pid/io"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gateway_pid/stat"; }

# measure <scrape 0|1>
measure() {
    local bytes0 ticks0 bytes1 ticks1 elapsed=0
    bytes0=$(written) ticks0=$(cpu_ticks)
    while (( elapsed < seconds )); do
        (( $1 )) && curl -sf -o /dev/null "http://127.0.0.1:$gateway_ops/metrics"
        sleep "$interval"
        elapsed=$(( elapsed + interval ))
    done
    bytes1=$(written) ticks1=$(cpu_ticks)
    awk -v scrape="$1" -v b=$(( bytes1 - bytes0 )) -v t=$(( ticks1 - ticks0 )) -v s="$elapsed" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "| %s | %.1f | %.2f |\n", scrape ? "scraped every '"$interval"' s" : "not scraped", b / 1024 / (s / 60), 100 * t / hz / s }'
}

echo "| idle gateway | KiB written per minute | CPU % of a core |"
echo "| --- | ---: | ---: |"
measure 0
measure 1
