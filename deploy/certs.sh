#!/usr/bin/env bash
# Development certificates for TLS and mutual TLS on the gateway's MQTT listener (openssl only).
#
#   deploy/certs.sh OUT_DIR [DEVICE_ID ...]
#
# Makes, in OUT_DIR (created, mode 0700), each file written once and kept on later runs:
#   ca.crt.pem, ca.key.pem              a development CA (EC P-256, 10 years); keep ca.key.pem off the gateway
#   gateway.crt.pem, gateway.key.pem    the gateway's server certificate: SAN localhost, 127.0.0.1, ::1 and
#                                       $GATEWAY_HOSTNAME (default: this machine's host name), serverAuth
#   devices/ID.crt.pem, devices/ID.key.pem
#                                       one client certificate per device id: CN=ID and SAN DNS:ID (the gateway reads
#                                       the device id from either), clientAuth
# Environment: GATEWAY_HOSTNAME, DAYS (server and device validity, default 825), CA_DAYS (default 3650).
# For development and tests: a production CA lives offline, and device keys are made on the device.
set -euo pipefail

if [ $# -lt 1 ]; then
    sed -n '2,15p' "$0" >&2
    exit 64
fi

out="$1"; shift
hostname="${GATEWAY_HOSTNAME:-$(hostname)}"
days="${DAYS:-825}"
ca_days="${CA_DAYS:-3650}"
umask 077
mkdir -p "$out/devices"
cd "$out"

# Device ids are the gateway's: 1-128 of letters, digits, '-', '_', '.', starting with a letter or digit.
valid_id='^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f ca.crt.pem ]; then
    new_key ca.key.pem
    openssl req -x509 -new -key ca.key.pem -sha256 -days "$ca_days" -subj "/CN=Gateway development CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" -out ca.crt.pem
fi

# sign NAME SUBJECT EXTENSIONS: a certificate for NAME.key.pem signed by the CA.
sign() {
    local name="$1" subject="$2" extensions="$3"
    new_key "$name.key.pem"
    openssl req -new -key "$name.key.pem" -subj "$subject" -out "$name.csr.pem"
    openssl x509 -req -in "$name.csr.pem" -CA ca.crt.pem -CAkey ca.key.pem -CAcreateserial -sha256 -days "$days" \
        -extfile <(printf '%s\n' "$extensions") -out "$name.crt.pem" 2>/dev/null
    rm -f "$name.csr.pem"
}

if [ ! -f gateway.crt.pem ]; then
    sans="DNS:localhost,IP:127.0.0.1,IP:::1"
    if [ -n "$hostname" ] && [ "$hostname" != localhost ]; then
        sans="$sans,DNS:$hostname"
    fi
    sign gateway "/CN=$hostname" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$sans"
fi

for device in "$@"; do
    if ! [[ "$device" =~ $valid_id ]]; then
        echo "certs.sh: '$device' is not a valid device id" >&2
        exit 65
    fi
    if [ ! -f "devices/$device.crt.pem" ]; then
        sign "devices/$device" "/CN=$device" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:$device"
    fi
done

# The gateway's service user reads these through its group (see deploy/install.sh); everything stays private otherwise.
chmod 0644 ca.crt.pem gateway.crt.pem
echo "Certificates in $(pwd): CA ca.crt.pem, server gateway.crt.pem (SAN $(openssl x509 -in gateway.crt.pem -noout -ext subjectAltName | tail -1 | sed 's/^ *//')), devices: $(ls devices | sed -n 's/\.crt\.pem$//p' | tr '\n' ' ')"
