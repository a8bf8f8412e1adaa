#!/usr/bin/env bash
# Builds what people install (packaging/README.md): the Windows installer and signed
# executables, Debian/Ubuntu .deb for amd64 and arm64, the UOS app-store .deb, tar.xz archives
# (linux amd64, arm64, loong64), each with the prepared PDFium compilation cache, then runs
# scripts/package-check.sh on the results unless PACKAGE_CHECK=0.
#
# Usage: scripts/package.sh            (make package)
# Environment:
#   VERSION        release number (default: packaging/VERSION)
#   DIST           output folder (default: dist)
#   PACKAGE_WORK   scratch folder (default: build/package)
#   PACKAGE_ONLY   space-separated subset of: windows linux-amd64 linux-arm64 linux-loong64
#   PACKAGE_XZ_LEVEL  xz preset for .deb and .tar.xz (default 3: -6 costs 3x the CPU for ~10 %)
#   Signing (Windows): SIGN_CERT + SIGN_KEY (PEM chain and key), or SIGN_PKCS12 (+ SIGN_PASS_FILE),
#   or SIGN_PKCS11_MODULE + SIGN_PKCS11_CERT + SIGN_PKCS11_KEY (a token), SIGN_TIMESTAMP_URL
#   optional, SIGN_CAFILE (the root that verifies them). None set: a test identity from the test
#   PKI (packaging/testsigncert) — fine for CI, never for a release.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

GO=${GO:-go}
VERSION=${VERSION:-$(cat packaging/VERSION)}
DIST=${DIST:-$ROOT/dist}
WORK=${PACKAGE_WORK:-$ROOT/build/package}
ONLY=${PACKAGE_ONLY:-windows linux-amd64 linux-arm64 linux-loong64}
APPID=cn.sealdesk.desktop
export VERSION DIST WORK APPID

want() { [[ " $ONLY " == *" $1 "* ]]; }
log() { printf '\npackage: %s\n' "$*"; }
t0=$SECONDS

scripts/install-deps.sh package

mkdir -p "$DIST" "$WORK"
rm -rf "${DIST:?}"/* "$WORK"/stage-* "$WORK"/seed-*

LDX="-X sealdesk/internal/version.Version=$VERSION"
if c=$(git rev-parse HEAD 2>/dev/null); then
  LDX="$LDX -X sealdesk/internal/version.Commit=$c -X sealdesk/internal/version.CommitTime=$(TZ=UTC git log -1 --date=iso-strict-local --format=%cd)"
fi
# -s -w: Debian wants stripped binaries; the build record (--version) lives in its own section
# and survives.
# PACKAGE_GOFLAGS (e.g. "-trimpath -buildmode=pie" for a release) is off by default: both change
# every compile's cache key, and the cgo GL parts then rebuild cold (minutes per target).
gobuild() { # GOOS GOARCH CGO CC OUTDIR EXTRA-LDFLAGS PKG...
  local goos=$1 goarch=$2 cgo=$3 cc=$4 out=$5 ldextra=$6
  shift 6
  mkdir -p "$out"
  # shellcheck disable=SC2086
  CGO_ENABLED=$cgo GOOS=$goos GOARCH=$goarch CC=$cc \
    "$GO" build ${PACKAGE_GOFLAGS:-} -ldflags "-s -w $LDX $ldextra" -o "$out/" "$@"
}

# seed OUTDIR CMD...: renders page 1 of a sample with CMD (a sealctl, possibly under qemu or
# wine) in an empty cache and keeps what the engine compiled: the cache that ships.
seed() {
  local out=$1
  shift
  local c=$WORK/seedrun-$$
  rm -rf "$c"
  mkdir -p "$c"
  local s=$SECONDS
  SEALDESK_CACHE=$c SEALDESK_CACHE_SEED=- "$@" render "$WORK/demo/sample.pdf" --page 1 --dpi 72 -o "$c/page1.png"
  rm -f "$c/pdfium/.init.lock"
  find "$c/pdfium" -name '*.tmp' -delete
  mkdir -p "$(dirname "$out")"
  mv "$c/pdfium" "$out"
  rm -rf "$c"
  log "prepared PDFium cache $(du -sh "$out" | cut -f1) in $((SECONDS - s)) s: $out"
}

# --- native build first: it makes the demo workspace every later step uses -----------------
HOST=$WORK/bin/linux-amd64
log "building linux/amd64 (cgo GUI, sealctl, sealhub)"
gobuild linux amd64 1 gcc "$HOST" "" ./cmd/sealdesk ./cmd/sealctl ./cmd/sealhub
rm -rf "$WORK/demo"
"$HOST/sealctl" demo init --dir "$WORK/demo" >/dev/null

# Man pages from --help (help2man), shared by every Linux package.
MAN=$WORK/man
rm -rf "$MAN" && mkdir -p "$MAN"
help2man -N -s 1 -n "SealDesk command line: keys, seals, signing, verification" "$HOST/sealctl" | gzip -9n > "$MAN/sealctl.1.gz"
help2man -N -s 1 -n "SealDesk hub: seal registry, signing records, online verification" "$HOST/sealhub" | gzip -9n > "$MAN/sealhub.1.gz"
help2man -N -s 1 --no-discard-stderr -n "SealDesk desktop app: sign and verify PDF and OFD documents" "$HOST/sealdesk" | gzip -9n > "$MAN/sealdesk.1.gz"

# --- Linux packages ----------------------------------------------------------------------------
# stage_fhs ROOT PREFIX BINDIR SEED: the file tree below PREFIX (usr, or the tar's top folder).
stage_fhs() {
  local root=$1 prefix=$2 bin=$3 seeddir=$4 p
  p=$root/$prefix
  install -d -m 0755 "$p/bin" "$p/share/applications" "$p/share/icons/hicolor/256x256/apps" \
    "$p/share/mime/packages" "$p/share/man/man1" "$p/share/doc/sealdesk"
  for b in sealdesk sealctl sealhub; do
    [ -f "$bin/$b" ] && install -m 0755 "$bin/$b" "$p/bin/$b"
  done
  if [ -f "$bin/sealdesk" ]; then
    install -m 0644 packaging/sealdesk.desktop "$p/share/applications/$APPID.desktop"
    install -m 0644 packaging/Icon.png "$p/share/icons/hicolor/256x256/apps/$APPID.png"
    install -m 0644 "$MAN/sealdesk.1.gz" "$p/share/man/man1/"
  fi
  install -m 0644 packaging/linux/sealdesk-mime.xml "$p/share/mime/packages/sealdesk.xml"
  install -m 0644 "$MAN/sealctl.1.gz" "$MAN/sealhub.1.gz" "$p/share/man/man1/"
  install -m 0644 packaging/linux/copyright "$p/share/doc/sealdesk/copyright"
  if [ -n "$seeddir" ] && [ -d "$seeddir" ]; then
    install -d -m 0755 "$p/lib/sealdesk"
    cp -r "$seeddir" "$p/lib/sealdesk/pdfium-cache"
    find "$p/lib/sealdesk" -type d -exec chmod 0755 {} + && find "$p/lib/sealdesk" -type f -exec chmod 0644 {} +
  fi
}

# depends ARCH BINARY...: the libraries the binaries link (dpkg-shlibdeps) plus those GLFW
# opens at run time with dlopen (invisible to dpkg-shlibdeps, needed for a window).
depends() {
  local arch=$1 tmp
  shift
  tmp=$(mktemp -d)
  mkdir -p "$tmp/debian"
  printf 'Source: sealdesk\n\nPackage: sealdesk\nArchitecture: any\n' > "$tmp/debian/control"
  local abs=()
  for b in "$@"; do abs+=("$(realpath "$b")"); done
  local shl
  shl=$(cd "$tmp" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O "${abs[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  rm -rf "$tmp"
  local gui=""
  if [[ " $* " == *"/sealdesk "* ]]; then
    gui=", libgl1, libegl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, libxkbcommon0, libwayland-client0, libwayland-cursor0, libwayland-egl1"
  fi
  echo "$shl$gui" | tr ',' '\n' | sed 's/^ *//;/^$/d' | sort -u -t' ' -k1,1 | paste -sd, | sed 's/,/, /g'
}

# build_deb ROOT PACKAGE ARCH DESCRIPTION-FILE BINARIES...: control file, md5sums, dpkg-deb.
build_deb() {
  local root=$1 pkg=$2 arch=$3 debver=$4 out=$5
  shift 5
  local deps size
  deps=$(depends "$arch" "$@")
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  install -d -m 0755 "$root/DEBIAN"
  cat > "$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $debver
Architecture: $arch
Maintainer: SealDesk Packaging <packaging@sealdesk.invalid>
Installed-Size: $size
Depends: $deps
Suggests: opensc, softhsm2
Section: utils
Priority: optional
Homepage: https://example.invalid/sealdesk
Description: sign and verify PDF and OFD documents with electronic seals
 SealDesk signs PDF and OFD documents with Chinese electronic seals
 (GB/T 38540 SES, SM2/SM3) and with PAdES signatures, and verifies them.
 .
 This package contains the desktop app (sealdesk), the command line
 (sealctl) and the reference hub (sealhub, whose systemd unit is installed
 but not enabled). Keys come from PKCS#11 tokens (USB keys) or keystore
 files.
EOF
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
  chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
  dpkg-deb --root-owner-group -Zxz -z"${PACKAGE_XZ_LEVEL:-3}" --build "$root" "$out" >/dev/null
  log "built $(basename "$out")"
}

changelog() { # DOC-DIR: changelog.gz (a native package: the version has no Debian revision)
  printf 'sealdesk (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- SealDesk Packaging <packaging@sealdesk.invalid>  %s\n' \
    "$VERSION" "$VERSION" "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
    | gzip -9n > "$1/changelog.gz"
  chmod 0644 "$1/changelog.gz"
}

linux_packages() { # ARCH BINDIR SEEDDIR
  local arch=$1 bin=$2 seeddir=$3 r
  # Debian / Ubuntu
  r=$WORK/stage-deb-$arch
  rm -rf "$r"
  stage_fhs "$r" usr "$bin" "$seeddir"
  changelog "$r/usr/share/doc/sealdesk"
  install -d -m 0755 "$r/usr/share/lintian/overrides"
  install -m 0644 packaging/linux/lintian-overrides "$r/usr/share/lintian/overrides/sealdesk"
  install -d -m 0755 "$r/lib/systemd/system"
  install -m 0644 packaging/linux/sealhub.service "$r/lib/systemd/system/sealhub.service"
  build_deb "$r" sealdesk "$arch" "$VERSION" "$DIST/sealdesk_${VERSION}_$arch.deb" "$r"/usr/bin/*

  # UOS app store: everything under /opt/apps/<appid>, no maintainer scripts.
  r=$WORK/stage-uos-$arch
  rm -rf "$r"
  local a=$r/opt/apps/$APPID
  install -d -m 0755 "$a/files/bin" "$a/files/doc" "$a/entries/applications" \
    "$a/entries/icons/hicolor/256x256/apps" "$a/entries/mime/packages"
  install -m 0755 "$bin/sealdesk" "$bin/sealctl" "$bin/sealhub" "$a/files/bin/"
  if [ -d "$seeddir" ]; then
    install -d -m 0755 "$a/files/lib/sealdesk"
    cp -r "$seeddir" "$a/files/lib/sealdesk/pdfium-cache"
    find "$a/files/lib" -type d -exec chmod 0755 {} + && find "$a/files/lib" -type f -exec chmod 0644 {} +
  fi
  sed "s|^Exec=sealdesk|Exec=/opt/apps/$APPID/files/bin/sealdesk|" packaging/sealdesk.desktop > "$a/entries/applications/$APPID.desktop"
  install -m 0644 packaging/Icon.png "$a/entries/icons/hicolor/256x256/apps/$APPID.png"
  install -m 0644 packaging/linux/sealdesk-mime.xml "$a/entries/mime/packages/$APPID.xml"
  install -m 0644 packaging/linux/copyright "$a/files/doc/copyright"
  changelog "$a/files/doc"
  sed -e "s/@APPID@/$APPID/" -e "s/@VERSION@/$VERSION.0/" -e "s/@ARCH@/$arch/" packaging/uos/info.in > "$a/info"
  chmod 0644 "$a/info" "$a/entries/applications/$APPID.desktop"
  build_deb "$r" "$APPID" "$arch" "$VERSION.0" "$DIST/${APPID}_${VERSION}.0_$arch.deb" "$a"/files/bin/*

  tarball "$arch" "$bin" "$seeddir"
}

tarball() { # ARCH BINDIR SEEDDIR
  local arch=$1 bin=$2 seeddir=$3 name r
  name=sealdesk-$VERSION-linux-$arch
  r=$WORK/stage-tar-$arch
  rm -rf "$r"
  stage_fhs "$r" "$name" "$bin" "$seeddir"
  install -m 0644 packaging/linux/sealhub.service "$r/$name/share/doc/sealdesk/"
  install -m 0644 packaging/linux/README.tar "$r/$name/README"
  tar -C "$r" --owner=0 --group=0 --numeric-owner --sort=name -cf - "$name" | xz -T0 -"${PACKAGE_XZ_LEVEL:-3}" > "$DIST/$name.tar.xz"
  log "built $name.tar.xz"
}

if want linux-amd64; then
  seed "$WORK/seed-amd64" "$HOST/sealctl"
  linux_packages amd64 "$HOST" "$WORK/seed-amd64"
fi

if want linux-arm64; then
  log "building linux/arm64 (cgo GUI through aarch64-linux-gnu-gcc and arm64 multiarch libraries)"
  ARM=$WORK/bin/linux-arm64
  PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
    gobuild linux arm64 1 aarch64-linux-gnu-gcc "$ARM" "" ./cmd/sealdesk ./cmd/sealctl ./cmd/sealhub
  # The arm64 cache is compiled by the arm64 sealctl itself, under qemu (wazero compiles for the
  # CPU it runs on; qemu's default CPU has the LSE atomics that wazero keys its entries by, as do
  # Kunpeng 920 and Phytium FT-2000+/D2000).
  seed "$WORK/seed-arm64" qemu-aarch64-static "$ARM/sealctl"
  linux_packages arm64 "$ARM" "$WORK/seed-arm64"
fi

if want linux-loong64; then
  log "building linux/loong64 (sealctl, sealhub; CGO_ENABLED=0, new-world ABI)"
  LOONG=$WORK/bin/linux-loong64
  gobuild linux loong64 0 "" "$LOONG" "" ./cmd/sealctl ./cmd/sealhub
  # No compilation cache: wazero has no loong64 compiler and runs PDFium in its interpreter.
  tarball loong64 "$LOONG" ""
fi

# --- Windows -----------------------------------------------------------------------------------
if want windows; then
  log "building windows/amd64 (cgo GUI through x86_64-w64-mingw32-gcc, sealctl, sealhub)"
  WIN=$WORK/bin/windows-amd64
  WSTAGE=$WORK/stage-windows
  rm -rf "$WSTAGE" && mkdir -p "$WSTAGE" "$WIN"
  "$GO" run ./packaging/winicon packaging/Icon.png "$WSTAGE/sealdesk.ico"
  # Icon, manifest and version resource: a .syso in the main package's folder is linked by
  # go build for that GOOS/GOARCH only; it lives there just for this build.
  vc=$(echo "$VERSION" | awk -F. '{printf "%d,%d,%d,0", $1, $2, $3}')
  sed -e "s/@VERSION@/$VERSION/g" -e "s/@VERSION_COMMA@/$vc/g" packaging/windows/sealdesk.rc.in > "$WSTAGE/sealdesk.rc"
  cp packaging/windows/sealdesk.manifest "$WSTAGE/"
  SYSO=$ROOT/cmd/sealdesk/zz_package_windows_amd64.syso
  trap 'rm -f "$SYSO"' EXIT
  (cd "$WSTAGE" && x86_64-w64-mingw32-windres -O coff -c 65001 -i sealdesk.rc -o "$SYSO")
  gobuild windows amd64 1 x86_64-w64-mingw32-gcc "$WIN" "-H=windowsgui" ./cmd/sealdesk
  rm -f "$SYSO"
  gobuild windows amd64 1 x86_64-w64-mingw32-gcc "$WIN" "" ./cmd/sealctl ./cmd/sealhub

  # The Windows cache is compiled by sealctl.exe under wine (wazero names its folder by OS).
  x86_64-w64-mingw32-gcc -O2 -shared -o "$WORK/bcryptprimitives.dll" \
    packaging/windows/winetest/bcryptprimitives.c packaging/windows/winetest/bcryptprimitives.def -ladvapi32
  scripts/package-wine.sh init "$WORK/bcryptprimitives.dll"
  WRUN=$WORK/winrun
  rm -rf "$WRUN" && mkdir -p "$WRUN"
  cp "$WIN/sealctl.exe" "$WRUN/"
  seed "$WSTAGE/pdfium-cache" scripts/package-wine.sh run "$WRUN/sealctl.exe"

  # Sign the executables, then the installer (its uninstaller is signed inside makensis).
  . scripts/package-sign.sh
  for e in sealdesk sealctl sealhub; do
    cp "$WIN/$e.exe" "$WSTAGE/$e.exe"
    sign_file "$WSTAGE/$e.exe"
  done
  SETUP=$DIST/SealDesk-$VERSION-windows-amd64-setup.exe
  makensis -V2 -DVERSION="$VERSION" -DSRCDIR="$WSTAGE" -DOUTFILE="$SETUP" \
    -DSIGNCMD="$ROOT/scripts/package-sign.sh" packaging/windows/sealdesk.nsi
  sign_file "$SETUP"
  # The signed executables also ship loose, for IT departments that deploy without installers.
  mkdir -p "$DIST/windows-amd64"
  cp -r "$WSTAGE"/sealdesk.exe "$WSTAGE"/sealctl.exe "$WSTAGE"/sealhub.exe "$WSTAGE"/pdfium-cache "$DIST/windows-amd64/"
  log "built $(basename "$SETUP")"
fi

log "artifacts in $DIST ($((SECONDS - t0)) s):"
(cd "$DIST" && ls -l --time-style=+ | awk 'NR>1 {printf "  %-55s %12d bytes\n", $NF, $5}')

if [ "${PACKAGE_CHECK:-1}" != 0 ]; then
  scripts/package-check.sh
fi
