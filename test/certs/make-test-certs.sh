#!/usr/bin/env bash
# Makes the TLS test certificates into DIR (default target/test-certs): nothing here is
# committed key material; the tests run this once per build (TestCerts) with openssl.
#   ca.pem/ca.key            a test CA
#   server.pem/server.key    RSA, SANs localhost and 127.0.0.1, signed by the CA (PKCS#8 key)
#   fullchain.pem            server.pem followed by ca.pem, as certbot writes it
#   server-rsa1.key          the same key as PKCS#1 ("RSA PRIVATE KEY")
#   server-ec.pem/.key       EC P-256, same SANs (PKCS#8 key); server-ec-sec1.key as SEC1
#   server.p12               server key and chain in PKCS#12, password "secret"
#   server-combined.pem      certificate and key in one file (MongoDB's tlsCertificateKeyFile)
#   server-enc.key           the server key as encrypted PKCS#8, password "secret"
#   expired.pem/.key         localhost, but no longer valid
#   wronghost.pem/.key       valid, for wrong.example only
#   client.pem/client.key    a client certificate (CN=peloton-client) for mutual TLS
#   client-combined.pem      client certificate and key in one file
#   other-ca.pem             a CA that signed none of these
#   stranger.pem/.key        a client certificate signed by other-ca (not trusted for clients)
set -euo pipefail
dir=${1:-target/test-certs}
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
  -subj "/CN=Peloton Test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650 \
  -subj "/CN=Some Other CA" -addext "basicConstraints=critical,CA:TRUE"

# sign NAME SUBJECT EXTFILE-CONTENT DAYS KEYSPEC
sign() {
  local name=$1 subj=$2 ext=$3 days=$4 key=$5
  printf '%s\n' "$ext" > "$name.ext"
  q openssl req -newkey "$key" -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj"
  q openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days "$days" -extfile "$name.ext" -out "$name.pem"
  rm -f "$name.csr" "$name.ext"
}
server_ext="subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
sign server "/CN=localhost" "$server_ext" 825 rsa:2048
sign server-ec "/CN=localhost" "$server_ext" 825 ec:<(openssl ecparam -name prime256v1)
sign expired "/CN=localhost" "$server_ext" -1 rsa:2048
sign wronghost "/CN=wrong.example" "subjectAltName=DNS:wrong.example
extendedKeyUsage=serverAuth" 825 rsa:2048
sign client "/CN=peloton-client" "extendedKeyUsage=clientAuth" 825 rsa:2048

printf 'extendedKeyUsage=clientAuth\n' > stranger.ext
q openssl req -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.csr -subj "/CN=stranger"
q openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial \
  -days 825 -extfile stranger.ext -out stranger.pem
rm -f stranger.csr stranger.ext

cat server.pem ca.pem > fullchain.pem
q openssl rsa -in server.key -traditional -out server-rsa1.key
q openssl ec -in server-ec.key -out server-ec-sec1.key
q openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem \
  -passout pass:secret -out server.p12
cat server.pem server.key > server-combined.pem
cat client.pem client.key > client-combined.pem
q openssl pkcs8 -topk8 -in server.key -passout pass:secret -v2 aes-256-cbc -out server-enc.key
echo "test certificates in $(pwd)"
