#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that building, running and testing SealDesk need,
# but only those that are missing, so a second run costs one dpkg query.
# Usage: scripts/install-deps.sh [run|test]   (test installs the independent verifiers too)
set -euo pipefail
mode=${1:-test}

build_pkgs=(gcc pkg-config libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev wayland-protocols
            softhsm2 opensc fonts-wqy-zenhei)
run_pkgs=(xvfb xauth dbus-x11)
test_pkgs=(xvfb xauth dbus-x11 imagemagick xdotool poppler-utils qpdf mupdf-tools libnss3-tools openssl
           postgresql default-jre-headless libpdfbox2-java libbcprov-java libbcpkix-java libbcutil-java
           libcommons-logging-java poppler-data)

want=("${build_pkgs[@]}")
case "$mode" in
  run) want+=("${run_pkgs[@]}") ;;
  test) want+=("${test_pkgs[@]}") ;;
  *) echo "install-deps: unknown mode '$mode' (want run or test)" >&2; exit 2 ;;
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
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
