#!/usr/bin/env bash
# Authenticode signing for scripts/package.sh, with osslsigncode.
#   . scripts/package-sign.sh; sign_file FILE      (package.sh)
#   scripts/package-sign.sh FILE                   (makensis's !uninstfinalize, for the uninstaller)
# FILE is signed in place (SHA-256). The identity comes from the environment, first match wins:
#   SIGN_PKCS11_MODULE + SIGN_PKCS11_CERT + SIGN_PKCS11_KEY   a token or HSM (key never leaves it)
#   SIGN_PKCS12 [+ SIGN_PASS_FILE]                            a .p12/.pfx file
#   SIGN_CERT + SIGN_KEY [+ SIGN_PASS_FILE]                   PEM chain (signer first) and key
#   none: a throw-away identity from the test PKI (packaging/testsigncert) in $WORK/testsign
# SIGN_TIMESTAMP_URL adds an RFC 3161 timestamp (a release wants one: the signature then
# outlives the certificate). SIGN_CAFILE is the root that `osslsigncode verify` checks against;
# set here for the test identity.
set -euo pipefail

sign_setup() {
  if [ -n "${SIGN_PKCS11_MODULE:-}${SIGN_PKCS12:-}${SIGN_CERT:-}" ]; then
    return
  fi
  local d=${WORK:?}/testsign
  if [ ! -f "$d/key.pem" ]; then
    ${GO:-go} run ./packaging/testsigncert "$d"
  fi
  export SIGN_CERT=$d/chain.pem SIGN_KEY=$d/key.pem SIGN_CAFILE=$d/root.pem SIGN_TEST_IDENTITY=1
}

sign_file() {
  local f=$1
  local args=(sign -h sha256 -n "SealDesk" -i "https://example.invalid/sealdesk")
  if [ -n "${SIGN_PKCS11_MODULE:-}" ]; then
    args+=(-pkcs11module "$SIGN_PKCS11_MODULE" -pkcs11cert "$SIGN_PKCS11_CERT" -key "$SIGN_PKCS11_KEY")
    [ -n "${SIGN_PASS_FILE:-}" ] && args+=(-readpass "$SIGN_PASS_FILE")
  elif [ -n "${SIGN_PKCS12:-}" ]; then
    args+=(-pkcs12 "$SIGN_PKCS12")
    [ -n "${SIGN_PASS_FILE:-}" ] && args+=(-readpass "$SIGN_PASS_FILE")
  else
    args+=(-certs "$SIGN_CERT" -key "$SIGN_KEY")
    [ -n "${SIGN_PASS_FILE:-}" ] && args+=(-readpass "$SIGN_PASS_FILE")
  fi
  [ -n "${SIGN_TIMESTAMP_URL:-}" ] && args+=(-ts "$SIGN_TIMESTAMP_URL")
  rm -f "$f.signed"
  osslsigncode "${args[@]}" -in "$f" -out "$f.signed" >/dev/null
  mv "$f.signed" "$f"
}

sign_setup
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  sign_file "$1"
fi
