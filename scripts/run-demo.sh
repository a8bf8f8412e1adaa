#!/usr/bin/env bash
# `make run`: a demo workspace (test PKI, keystores, SoftHSM2 token, sample documents), a local
# sealhub, and the desktop app on it. Without a display, the same flow runs on the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-demo}
bin=$PWD/bin
if [ ! -f "$dir/workspace.json" ]; then
  "$bin/sealctl" demo init --dir "$dir"
fi
export SOFTHSM2_CONF=$PWD/$dir/softhsm2.conf
# The workspace's own key config and outbox: the demo never touches ~/.config/sealdesk.
export SEALDESK_CONFIG=$PWD/$dir/config.json
export SEALDESK_OUTBOX=$PWD/$dir/outbox.db
export SEALDESK_PIN=$(cat "$dir/pin.txt")
if [ -x "$bin/sealhub" ] && "$bin/sealhub" --help 2>/dev/null | grep -q serve; then
  "$bin/sealhub" serve --listen 127.0.0.1:8443 --db "sqlite:$PWD/$dir/hub.db" --demo "$PWD/$dir" >"$dir/sealhub.log" 2>&1 &
  hub=$!
  trap 'kill $hub 2>/dev/null || true' EXIT
  export SEALDESK_HUB=http://127.0.0.1:8443
  export SEALDESK_HUB_TOKEN_FILE=$PWD/$dir/hub-token.txt   # the demo client's bearer token (made by demo init)
  # Wait until the hub listens, so the first signing can check the seal status online.
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null && break; sleep 0.2; done
  # The hub's web pages, and the demo's console accounts (demo init / serve --demo made them).
  echo "Seal check (验章):       http://127.0.0.1:8443/"
  echo "Staff console (控制台):  http://127.0.0.1:8443/console/"
  if [ -f "$dir/staff.txt" ]; then
    while read -r user pass role; do
      if [ -n "$user" ]; then echo "  sign in as $user / $pass ($role)"; fi
    done <"$dir/staff.txt"
  fi
fi
if [ -n "${hub:-}" ] && [ -f "$dir/hub-reviewer-token.txt" ]; then
  # The demo seal came through apply → approve → fetch; one more application waits (issue 13).
  echo "Seal applications waiting for review on the demo hub (approve: sealhub app approve ID):"
  SEALDESK_HUB_TOKEN_FILE=$PWD/$dir/hub-reviewer-token.txt "$bin/sealhub" app list --pending || true
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$bin/sealdesk" ]; then
  unset SEALDESK_PIN   # the GUI asks for the PIN (the demo PIN is in $dir/pin.txt)
  "$bin/sealdesk" --workspace "$dir" "$dir/sample.pdf"
else
  echo "No display: running the demo flow on the command line."
  "$bin/sealctl" keys list
  "$bin/sealctl" sign --in "$dir/sample.pdf" --out "$dir/sample-signed.pdf" --key "file:$dir/keys/signer-sm2.pem" \
     --seal "$dir/seal.esl" --profile pdf-gm --page 1 --at 150,60
  "$bin/sealctl" verify "$dir/sample-signed.pdf" --trust "$dir/root.pem"
fi
