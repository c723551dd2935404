#!/usr/bin/env bash
# The hosted-page test drives a real headless Chromium; make sure Debian's package is there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Chromium (Debian package) for the hosted-page test..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is not installed; the hosted-page browser test will be skipped (or fail under CI=true)." >&2
fi
