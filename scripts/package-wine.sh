#!/usr/bin/env bash
# Runs Windows console programs under Debian's wine64 for scripts/package.sh and
# scripts/package-check.sh, in a private prefix ($WORK/wineprefix), without a display and
# without wine's Mono/Gecko download prompts.
#   scripts/package-wine.sh init DLL        make the prefix (once; ~30 s) and put DLL, the
#                                           test-only bcryptprimitives.dll, into its System32
#   scripts/package-wine.sh run EXE ARGS    run EXE; its exit code is ours
# Go 1.26 programs need bcryptprimitives.dll, which wine 8.0 lacks; Go loads it from System32
# only, so the stand-in (packaging/windows/winetest) goes into this private prefix's System32.
set -euo pipefail
export WINEPREFIX=${WINEPREFIX:-${WORK:?}/wineprefix} WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
WINE=/usr/lib/wine/wine64
[ -x "$WINE" ] || WINE=$(command -v wine64)
case "${1:-}" in
  init)
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
      mkdir -p "$WINEPREFIX"
      "$WINE" wineboot --init >/dev/null 2>&1 || true
      /usr/lib/wine/wineserver -w 2>/dev/null || true
    fi
    if [ -n "${2:-}" ]; then
      cp "$2" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
    fi ;;
  run)
    shift
    exec "$WINE" "$@" ;;
  *) echo "usage: package-wine.sh init [DLL] | run EXE ARGS..." >&2; exit 2 ;;
esac
