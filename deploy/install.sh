#!/usr/bin/env bash
# Installs the gateway on a Raspberry Pi (or any systemd Linux) as the 'gateway' service.
#
#   deploy/install.sh                 # publish self-contained for linux-arm64 here, then install (needs the .NET SDK)
#   deploy/install.sh --from DIR      # install an existing publish folder (e.g. built on a workstation and copied over)
#   deploy/install.sh --publish-only  # only publish, into ./publish/linux-arm64 (cross-publish on a workstation)
#
# Options: --runtime RID (default linux-arm64), --prefix DIR (/opt/gateway), --data DIR (/var/lib/gateway),
#          --no-start (install and enable, do not start).
# Layout: binaries in PREFIX (root-owned, read-only to the service), data in DATA (owned by 'gateway', mode 0700),
#         settings in /etc/gateway/gateway.env (Gateway__Section__Key=value lines, mode 0640, never overwritten).
set -euo pipefail

runtime=linux-arm64
prefix=/opt/gateway
data=/var/lib/gateway
from=""
publish_only=false
start=true
repo="$(cd "$(dirname "$0")/.." && pwd)"

while [ $# -gt 0 ]; do
    case "$1" in
        --runtime) runtime="$2"; shift 2 ;;
        --prefix) prefix="$2"; shift 2 ;;
        --data) data="$2"; shift 2 ;;
        --from) from="$2"; shift 2 ;;
        --publish-only) publish_only=true; shift ;;
        --no-start) start=false; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 64 ;;
    esac
done

if [ -z "$from" ]; then
    from="$repo/publish/$runtime"
    # Self-contained: the Pi needs no .NET runtime. Not trimmed: Orleans generates and loads code by reflection.
    dotnet publish "$repo/Gateway.Silo" -c Release -r "$runtime" --self-contained -o "$from"
fi
if $publish_only; then
    echo "Published to $from"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (it creates a system user and a systemd unit)" >&2
    exit 77
fi
if [ ! -x "$from/Gateway.Silo" ]; then
    echo "install.sh: $from/Gateway.Silo is missing; publish first or pass --from" >&2
    exit 66
fi

# A system user with no shell and no home outside the data folder.
if ! id gateway >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$data" --no-create-home --shell /usr/sbin/nologin gateway
fi

install -d -m 0755 -o root -g root "$prefix"
# Replace the binaries as a whole so no file of an older version is left behind.
rm -rf "$prefix.new"
cp -a "$from" "$prefix.new"
chown -R root:root "$prefix.new"
chmod -R go-w "$prefix.new"
if [ -d "$prefix" ]; then rm -rf "$prefix.old"; mv "$prefix" "$prefix.old"; fi
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"

install -d -m 0700 -o gateway -g gateway "$data"
install -d -m 0750 -o root -g gateway /etc/gateway
if [ ! -f /etc/gateway/gateway.env ]; then
    install -m 0640 -o root -g gateway /dev/null /etc/gateway/gateway.env
    cat > /etc/gateway/gateway.env <<'ENV'
# Gateway settings, one Gateway__Section__Key=value per line (see docs/configuration.md).
# Gateway__GatewayId=pi-01
# Gateway__Mqtt__CertificatePath=/etc/gateway/tls/gateway.crt.pem
# Gateway__Mqtt__CertificateKeyPath=/etc/gateway/tls/gateway.key.pem
# Gateway__Mqtt__ClientCaPath=/etc/gateway/tls/ca.crt.pem
# HTTPS ingest on 8443, the same files (renewed certificates are picked up without a restart):
# Gateway__Http__CertificatePath=/etc/gateway/tls/gateway.crt.pem
# Gateway__Http__CertificateKeyPath=/etc/gateway/tls/gateway.key.pem
# Gateway__Http__ClientCaPath=/etc/gateway/tls/ca.crt.pem
ENV
fi

sed -e "s#/opt/gateway#$prefix#g" -e "s#/var/lib/gateway#$data#g" "$repo/deploy/gateway.service" > /etc/systemd/system/gateway.service
systemctl daemon-reload
systemctl enable gateway.service
if $start; then
    # Type=notify: this returns once the gateway has told systemd it is ready (or failed).
    systemctl restart gateway.service
    systemctl --no-pager status gateway.service | head -5
fi
