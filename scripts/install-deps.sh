#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that building, running and testing SealDesk need,
# but only those that are missing, so a second run costs one dpkg query.
# Usage: scripts/install-deps.sh [run|test|package]   (test installs the independent verifiers too;
# package installs the cross toolchains, arm64 multiarch libraries, NSIS, wine and qemu that
# `make package` needs — heavy, so never part of test)
set -euo pipefail
mode=${1:-test}

build_pkgs=(gcc pkg-config libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev wayland-protocols
            softhsm2 opensc fonts-wqy-zenhei)
run_pkgs=(xvfb xauth dbus-x11)
test_pkgs=(xvfb xauth dbus-x11 imagemagick xdotool poppler-utils qpdf mupdf-tools libnss3-tools openssl
           postgresql default-jre-headless libpdfbox2-java libbcprov-java libbcpkix-java libbcutil-java
           libcommons-logging-java poppler-data
           chromium)   # hub/web's browser tests drive it with chromedp

want=("${build_pkgs[@]}")
case "$mode" in
  run) want+=("${run_pkgs[@]}") ;;
  test) want+=("${test_pkgs[@]}") ;;
  package)
    # Native tools, then the arm64 GUI's multiarch libraries (headers and .so for the aarch64
    # cross compiler). --no-install-recommends keeps wine and lintian from pulling desktops in.
    want+=(gcc-mingw-w64-x86-64 nsis osslsigncode wine64 qemu-user-static gcc-aarch64-linux-gnu
           lintian dpkg-dev fakeroot xz-utils file openssl help2man desktop-file-utils)
    arm64_pkgs=(libc6-dev:arm64 libgl-dev:arm64 libgl1-mesa-dev:arm64 libx11-dev:arm64
                libxcursor-dev:arm64 libxrandr-dev:arm64 libxinerama-dev:arm64 libxi-dev:arm64
                libxxf86vm-dev:arm64 libxkbcommon-dev:arm64 libwayland-dev:arm64)
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      [ "$(id -u)" = 0 ] && dpkg --add-architecture arm64 || sudo dpkg --add-architecture arm64
    fi
    want+=("${arm64_pkgs[@]}") ;;
  *) echo "install-deps: unknown mode '$mode' (want run, test or package)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
