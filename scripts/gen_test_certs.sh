#!/usr/bin/env bash
# Generates a throwaway PKI for TLS tests and local trials:
#   ca.{crt,key}          the trusted CA
#   server.{crt,key}      server certificate for localhost / 127.0.0.1, signed by the CA
#   client.{crt,key}      client certificate signed by the CA (mutual TLS)
#   rogue-ca.{crt,key}, rogue-client.{crt,key}   a second CA and a client it signed (refused)
#
#   scripts/gen_test_certs.sh OUT_DIR
set -euo pipefail
out=${1:?usage: gen_test_certs.sh OUT_DIR}
mkdir -p "$out"
cd "$out"
days=30
ossl() { openssl "$@" 2>/dev/null; }

make_ca() {  # name
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days $days \
    -subj "/CN=workerpair test $1"
}
make_leaf() {  # name ca extensions
  ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=workerpair $1"
  printf '%s\n' "$3" > "$1.ext"
  ossl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" \
    -days $days -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}

make_ca ca
make_ca rogue-ca
make_leaf server ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
make_leaf client ca "extendedKeyUsage=clientAuth"
make_leaf rogue-client rogue-ca "extendedKeyUsage=clientAuth"
printf 'test-token-%s\n' "$RANDOM$RANDOM" > token
echo "certificates written to $out"
