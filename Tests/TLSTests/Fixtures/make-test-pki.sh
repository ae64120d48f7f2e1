#!/usr/bin/env bash
# Builds a throw-away PKI with the openssl CLI (an issuer independent of Outpost's own code):
#   ca.pem/ca.key           test CA (EC P-256)          other-ca.pem   an unrelated CA
#   server.pem/server.key   edge certificate, SAN DNS edge.test + IP 127.0.0.1
#   phone.pem/phone.key     CN=SEP001122334455, SAN URI sip:2001@edge.test (clientAuth)
#   phone-b.pem/phone-b.key CN=SEP00AABBCCDD02 (clientAuth), the second phone of the call tests
#   stranger.pem/.key       issued by other-ca          expired.pem/.key   validity in 2020
#   revoked.pem/.key        revoked, listed in crl.pem  rsa1024.pem/.key   RSA-1024 key
#   sha1.pem/.key           RSA-2048 signed with SHA-1 by rsa-ca.pem (an RSA CA)
#   other-ca.sha256         other-ca's SHA-256 fingerprint (hex)
#   other-crl.pem           other-ca's CRL, revoking stranger.pem
#   crl-phone-revoked.pem   ca's CRL as crl.pem, plus phone.pem (from a copy of the CA database)
# Usage: make-test-pki.sh DIRECTORY
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
exec >/dev/null 2>log.txt
export SAN="URI:sip:2001@edge.test"

cat > ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
default_crl_days = 30
[anything]
commonName = supplied
[client]
basicConstraints = CA:false
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = ${ENV::SAN}
[server]
basicConstraints = CA:false
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge.test, IP:127.0.0.1
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 3650 -subj "/CN=Outpost Test CA" -config ca.cnf -extensions root
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key -out other-ca.pem \
    -days 3650 -subj "/CN=Somebody Else CA" -config ca.cnf -extensions root
openssl req -x509 -new -newkey rsa:2048 -nodes -keyout rsa-ca.key -out rsa-ca.pem \
    -days 3650 -subj "/CN=Legacy RSA CA" -config ca.cnf -extensions root

: > index.txt
echo 1000 > serial
issue() { # name cn keyargs extensions ca [extra ca args...]
    local name=$1 cn=$2 key=$3 ext=$4 ca=$5
    shift 5
    openssl req -new -newkey "$key" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" \
        ${KEYOPT:+-pkeyopt "$KEYOPT"}
    openssl ca -batch -config ca.cnf -extensions "$ext" -cert "$ca.pem" -keyfile "$ca.key" \
        -in "$name.csr" -out "$name.pem" -notext "$@"
}
KEYOPT=ec_paramgen_curve:P-256 issue server edge.test ec server ca -days 365
KEYOPT=ec_paramgen_curve:P-256 issue phone SEP001122334455 ec client ca -days 365
KEYOPT=ec_paramgen_curve:P-256 issue revoked SEP00000000DEAD ec client ca -days 365
KEYOPT=ec_paramgen_curve:P-256 issue expired SEP0000000EXPIRED ec client ca -startdate 20200101000000Z -enddate 20210101000000Z
issue rsa1024 SEP00000000SMALL rsa:1024 client ca -days 365
issue sha1 SEP000000000SHA1 rsa:2048 client rsa-ca -days 365 -md sha1
KEYOPT=ec_paramgen_curve:P-256 issue stranger SEP0000STRANGER ec client other-ca -days 365
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -revoke revoked.pem
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem
openssl ca -batch -config ca.cnf -cert rsa-ca.pem -keyfile rsa-ca.key -gencrl -out rsa-crl.pem
# After crl.pem and rsa-crl.pem: the CA database is shared, so only other-crl.pem lists stranger.
openssl ca -batch -config ca.cnf -cert other-ca.pem -keyfile other-ca.key -revoke stranger.pem
openssl ca -batch -config ca.cnf -cert other-ca.pem -keyfile other-ca.key -gencrl -out other-crl.pem
# A copy of the database, so the shared one (and tests revoking phone.pem in their own copy of
# this directory) never sees phone.pem revoked.
mkdir phone-revoked-db
cp ca.cnf index.txt serial phone-revoked-db/
(cd phone-revoked-db && openssl ca -batch -config ca.cnf -cert ../ca.pem -keyfile ../ca.key -revoke ../phone.pem \
    && openssl ca -batch -config ca.cnf -cert ../ca.pem -keyfile ../ca.key -gencrl -out ../crl-phone-revoked.pem)
openssl x509 -in other-ca.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' > other-ca.sha256
cat ca.pem rsa-ca.pem > trusted.pem
cat ca.pem rsa-ca.pem other-ca.pem > trusted-with-other.pem
chmod 600 ./*.key
KEYOPT=ec_paramgen_curve:P-256 issue phone-b SEP00AABBCCDD02 ec client ca -days 365
