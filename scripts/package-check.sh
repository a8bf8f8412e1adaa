#!/usr/bin/env bash
# Checks what scripts/package.sh built, the way each platform would (make package runs it last):
#   - osslsigncode verify accepts the installer and every .exe with the signing root, and
#     refuses a copy with one byte changed;
#   - lintian reports no errors on the Debian packages; the UOS package keeps to /opt/apps/<appid>
#     and has no maintainer scripts;
#   - the amd64 .deb installs with dpkg -i, the installed sealctl verifies a demo document signed
#     with the demo keys, the first render after installing is timed, and it uninstalls cleanly
#     (the UOS package likewise);
#   - sealctl.exe --version and verify run under wine64; the arm64 and loong64 sealctl run
#     --version and verify under qemu-user-static.
# Every check prints one line "ok ..." or "FAIL ..."; the script fails if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=${VERSION:-$(cat packaging/VERSION)}
DIST=${DIST:-$ROOT/dist}
WORK=${PACKAGE_WORK:-$ROOT/build/package}
APPID=cn.sealdesk.desktop
export WORK
fails=0
ok() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; fails=$((fails + 1)); }
# check DESCRIPTION CMD...: ok when CMD exits 0 (its output is shown on failure).
check() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; printf '%s\n' "$out" | tail -20 | sed 's/^/      /'; fi
}

# dpkg_locked CMD...: runs a dpkg command, waiting (up to 15 min) while another install holds
# dpkg's lock — this machine is shared.
dpkg_locked() {
  local i out
  for i in $(seq 180); do
    if out=$("$@" 2>&1); then printf '%s\n' "$out"; return 0; fi
    grep -q 'lock' <<<"$out" || { printf '%s\n' "$out"; return 1; }
    sleep 5
  done
  printf '%s\n' "$out"
  return 1
}

DEMO=$WORK/demo
CHK=$WORK/check
rm -rf "$CHK" && mkdir -p "$CHK"

# A signed sample from the demo workspace (signed with the demo's SM2 keystore, SES seal).
HOST=$WORK/bin/linux-amd64
SIGNED=$CHK/sample-signed.pdf
check "demo sample signed (pdf-gm, SM2 keystore)" \
  "$HOST/sealctl" sign --in "$DEMO/sample.pdf" --out "$SIGNED" --key "file:$DEMO/keys/signer-sm2.pem" \
  --seal "$DEMO/seal.esl" --profile pdf-gm --page 1 --at 150,230 --pin-file "$DEMO/pin.txt"
SIGNED_OFD=$CHK/sample-signed.ofd
check "demo sample signed (ofd-ses4)" \
  "$HOST/sealctl" sign --in "$DEMO/sample.ofd" --out "$SIGNED_OFD" --key "file:$DEMO/keys/signer-sm2.pem" \
  --seal "$DEMO/seal.esl" --profile ofd-ses4 --page 1 --at 150,230 --pin-file "$DEMO/pin.txt"

# verify_with LABEL CMD...: CMD verify of both samples must say valid (exit 0) and name the signer.
verify_with() {
  local label=$1
  shift
  local f out
  for f in "$SIGNED" "$SIGNED_OFD"; do
    if out=$("$@" verify "$f" --trust "$DEMO/root.pem" --json 2>&1) && grep -q '"valid": *true' <<<"$out"; then
      ok "$label: verify $(basename "$f") → valid"
    else
      fail "$label: verify $(basename "$f")"
      printf '%s\n' "$out" | tail -15 | sed 's/^/      /'
    fi
  done
}
# version_with LABEL WANT CMD...: CMD --version names the release and the target.
version_with() {
  local label=$1 want=$2 out
  shift 2
  if out=$("$@" --version 2>&1) && grep -q "$VERSION .*$want" <<<"$out"; then
    ok "$label --version: $out"
  else
    fail "$label --version (want $VERSION and $want): $out"
  fi
}

# --- Authenticode --------------------------------------------------------------------------------
if ls "$DIST"/*-setup.exe >/dev/null 2>&1; then
  . scripts/package-sign.sh
  set +e # package-sign.sh runs with -e; a failed check here must report, not end the script
  CA=${SIGN_CAFILE:?SIGN_CAFILE: the root that verifies the code-signing certificate}
  for f in "$DIST"/*-setup.exe "$DIST"/windows-amd64/*.exe; do
    check "osslsigncode verify $(basename "$f")" osslsigncode verify -CAfile "$CA" -in "$f"
  done
  cp "$DIST/windows-amd64/sealctl.exe" "$CHK/tampered.exe"
  printf '\x01' | dd of="$CHK/tampered.exe" bs=1 seek=$(($(stat -c %s "$CHK/tampered.exe") / 2)) conv=notrunc status=none
  if osslsigncode verify -CAfile "$CA" -in "$CHK/tampered.exe" >/dev/null 2>&1; then
    fail "osslsigncode verify accepted an .exe with one byte changed"
  else
    ok "osslsigncode verify refuses an .exe with one byte changed"
  fi
  # The uninstaller inside the installer is signed too (makensis !uninstfinalize): the installer
  # log of makensis is not kept, so look for a second signature blob's signer name instead.
  check "installer is a PE32 NSIS archive" bash -c "file '$(ls "$DIST"/*-setup.exe)' | grep -q 'Nullsoft'"
  check "sealdesk.exe is a GUI PE32+ with only system DLLs" bash -c \
    "file '$DIST/windows-amd64/sealdesk.exe' | grep -q 'PE32+ executable (GUI) x86-64' && ! x86_64-w64-mingw32-objdump -p '$DIST/windows-amd64/sealdesk.exe' | grep 'DLL Name' | grep -viE 'kernel32|user32|gdi32|opengl32|shell32|msvcrt|advapi32|ws2_32|winmm|ole32|imm32|dwmapi|bcryptprimitives|ntdll|crypt32|secur32|iphlpapi|userenv|shlwapi|comdlg32|uxtheme|version|setupapi|powrprof'"

  # --- wine64 --------------------------------------------------------------------------------------
  WR=$CHK/wine
  mkdir -p "$WR"
  cp "$DIST/windows-amd64/sealctl.exe" "$WR/"
  scripts/package-wine.sh init "$WORK/bcryptprimitives.dll"
  version_with "wine64 sealctl.exe" "windows/amd64, cgo" scripts/package-wine.sh run "$WR/sealctl.exe"
  verify_with "wine64 sealctl.exe" scripts/package-wine.sh run "$WR/sealctl.exe"
fi

# --- Debian packages -------------------------------------------------------------------------------
for deb in "$DIST"/sealdesk_*.deb; do
  [ -f "$deb" ] || continue
  out=$(lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" 2>&1)
  rc=$?
  if [ $rc = 0 ]; then
    ok "lintian $(basename "$deb"): no errors ($(grep -c '^W:' <<<"$out") warnings, $(grep -c '^I:' <<<"$out") info)"
  else
    fail "lintian $(basename "$deb")"
  fi
  grep -E '^(E|W):' <<<"$out" | sed 's/^/      /'
  deps=$(dpkg-deb -f "$deb" Depends)
  if grep -qiE 'softhsm|opensc|poppler|qpdf|mupdf|postgres|xvfb|xdotool|imagemagick|jre|pdfbox|wine|qemu' <<<"$deps"; then
    fail "$(basename "$deb") depends on a test tool: $deps"
  else
    ok "$(basename "$deb") Depends: $deps"
  fi
done
for deb in "$DIST"/${APPID}_*.deb; do
  [ -f "$deb" ] || continue
  x=$CHK/uos-control
  rm -rf "$x" && dpkg-deb -e "$deb" "$x"
  check "UOS $(basename "$deb"): no maintainer scripts" bash -c "[ \"\$(ls '$x' | tr '\n' ' ')\" = 'control md5sums ' ]"
  check "UOS $(basename "$deb"): every file under /opt/apps/$APPID" bash -c \
    "! dpkg-deb -c '$deb' | awk '{print \$6}' | grep -v '^\./\$' | grep -vE '^\./opt/(apps/($APPID(/.*)?)?)?/?\$'"
  check "UOS $(basename "$deb"): info, entries/, files/" bash -c \
    "dpkg-deb -c '$deb' | grep -q 'opt/apps/$APPID/info\$' && dpkg-deb -c '$deb' | grep -q 'entries/applications/$APPID.desktop' && dpkg-deb -c '$deb' | grep -q 'files/bin/sealdesk'"
  check "UOS $(basename "$deb"): info is JSON naming $APPID" bash -c \
    "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./opt/apps/$APPID/info | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"appid\"]==\"$APPID\" and d[\"arch\"] and d[\"version\"]'"
done

# --- install, use, measure, uninstall -------------------------------------------------------------
DEB=$DIST/sealdesk_${VERSION}_amd64.deb
if [ -f "$DEB" ] && [ "$(id -u)" = 0 ]; then
  if dpkg-query -W -f='${Status}' sealdesk 2>/dev/null | grep -q installed; then
    fail "sealdesk is already installed on this machine; not touching it"
  else
    # Paths the package brings, and which of its directories existed before (those stay).
    dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' > "$CHK/paths.txt"
    while read -r p; do [ -e "$p" ] && echo "$p"; done < "$CHK/paths.txt" > "$CHK/existed.txt"
    check "dpkg -i $(basename "$DEB")" dpkg_locked dpkg -i "$DEB"
    version_with "installed /usr/bin/sealctl" "linux/amd64, cgo" /usr/bin/sealctl
    version_with "installed /usr/bin/sealhub" "linux/amd64, cgo" /usr/bin/sealhub
    version_with "installed /usr/bin/sealdesk" "linux/amd64, cgo" /usr/bin/sealdesk
    verify_with "installed /usr/bin/sealctl" /usr/bin/sealctl
    check "sealhub.service installed and not enabled" bash -c \
      "[ -f /lib/systemd/system/sealhub.service ] && ! ls /etc/systemd/system/*/sealhub.service 2>/dev/null | grep -q ."
    check "desktop entry valid" desktop-file-validate /usr/share/applications/$APPID.desktop
    check "man pages" bash -c "zcat /usr/share/man/man1/sealctl.1.gz | grep -q 'sealctl' && zcat /usr/share/man/man1/sealhub.1.gz | grep -q serve"

    # First render after a fresh install, as a new user: the shipped cache vs none.
    fr() { # SEED-ENV-VALUE → milliseconds
      local home
      home=$(mktemp -d)
      local s e
      s=$(date +%s%N)
      env -u SEALDESK_CACHE HOME="$home" XDG_CACHE_HOME= SEALDESK_CACHE_SEED="$1" \
        /usr/bin/sealctl render "$DEMO/sample.pdf" --page 1 -o "$home/p1.png" >/dev/null 2>&1 || echo "render failed" >&2
      e=$(date +%s%N)
      ls "$home/.cache/sealdesk/pdfium/"*/ 2>/dev/null | grep -q . || echo "no user cache" >&2
      rm -rf "$home"
      echo $(((e - s) / 1000000))
    }
    seeded=$(fr "") cold=$(fr -)
    seeded2=$(fr "")
    ok "first render after install (sealctl render, whole process, fresh user): ${seeded} ms and ${seeded2} ms with the shipped cache, ${cold} ms without (load $(cut -d' ' -f1 /proc/loadavg))"

    check "dpkg -r sealdesk" dpkg_locked dpkg -r sealdesk
    check "dpkg -P sealdesk" dpkg_locked dpkg -P sealdesk
    left=$(while read -r p; do [ -e "$p" ] && ! grep -qxF "$p" "$CHK/existed.txt" && echo "$p"; done < "$CHK/paths.txt"; true)
    if [ -z "$left" ]; then
      ok "uninstalled cleanly: none of the package's $(wc -l < "$CHK/paths.txt") paths left behind"
    else
      fail "uninstall left: $left"
    fi
  fi
  UOS=$DIST/${APPID}_${VERSION}.0_amd64.deb
  if [ -f "$UOS" ]; then
    check "dpkg -i $(basename "$UOS")" dpkg_locked dpkg -i "$UOS"
    version_with "UOS /opt/apps/$APPID/files/bin/sealctl" "linux/amd64" /opt/apps/$APPID/files/bin/sealctl
    check "dpkg -P $APPID" dpkg_locked dpkg -P $APPID
    check "UOS package removed: /opt/apps/$APPID gone" bash -c "[ ! -e /opt/apps/$APPID ]"
  fi
fi

# --- arm64 and loong64 under qemu-user-static --------------------------------------------------------
if [ -x "$WORK/bin/linux-arm64/sealctl" ]; then
  version_with "qemu-aarch64 sealctl" "linux/arm64, cgo" qemu-aarch64-static "$WORK/bin/linux-arm64/sealctl"
  verify_with "qemu-aarch64 sealctl" qemu-aarch64-static "$WORK/bin/linux-arm64/sealctl"
  version_with "qemu-aarch64 sealdesk" "linux/arm64, cgo" qemu-aarch64-static "$WORK/bin/linux-arm64/sealdesk"
fi
if [ -x "$WORK/bin/linux-loong64/sealctl" ]; then
  version_with "qemu-loongarch64 sealctl" "linux/loong64, no cgo" qemu-loongarch64-static "$WORK/bin/linux-loong64/sealctl"
  verify_with "qemu-loongarch64 sealctl" qemu-loongarch64-static "$WORK/bin/linux-loong64/sealctl"
  version_with "qemu-loongarch64 sealhub" "linux/loong64, no cgo" qemu-loongarch64-static "$WORK/bin/linux-loong64/sealhub"
fi

if [ $fails -gt 0 ]; then
  echo "package-check: $fails check(s) failed"
  exit 1
fi
echo "package-check: all checks passed"
