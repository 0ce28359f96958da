#!/usr/bin/env bash
# Builds the solution in Release and runs every benchmark scenario (or the ones named as arguments),
# printing the machine and one markdown table on stdout; progress goes to stderr.
#   benchmarks/run.sh                 all scenarios
#   benchmarks/run.sh wal-append      just one
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

dotnet build Orleans.Gateway.sln -c Release -nologo -v quiet

echo "## Machine"
echo
echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)"
echo "- Memory: $(free -h | awk '/^Mem:/ { print $2 " total, " $7 " available" }')"
echo "- .NET SDK: $(dotnet --version)"
echo "- Data folder file system: $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 " on " $1 }')"
echo
echo "## Results"
echo

dotnet benchmarks/Gateway.Benchmarks/bin/Release/net10.0/Gateway.Benchmarks.dll "${@:-all}" \
    --silo Gateway.Silo/bin/Release/net10.0/Gateway.Silo.dll
