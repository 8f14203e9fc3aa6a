#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests
# (server/dashboard/browser_test.go), only when /usr/bin/chromium is missing.
# The tests drive it with chromedp; no browser is ever downloaded at test time.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "installing Chromium (Debian package chromium) for the dashboard's browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
