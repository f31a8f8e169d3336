#!/usr/bin/env bash
# Installs, from Debian packages only, what the tests need and the machine
# lacks. Idempotent: a machine that already has everything installs nothing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v kubectl  >/dev/null 2>&1 || need+=(kubectl)
command -v amtool   >/dev/null 2>&1 || need+=(prometheus-alertmanager)

if [ ${#need[@]} -eq 0 ]; then
  echo "all test tools present"
  exit 0
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
for pkg in "${need[@]}"; do
  # One package at a time so a package missing from this release does not
  # stop the others; the tests that need it then skip with a message.
  apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null || echo "warning: could not install $pkg"
done
