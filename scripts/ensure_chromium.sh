#!/usr/bin/env bash
# The hosted-page test drives a real headless Chromium; make sure Debian's package is there.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
exec "$(dirname "$0")/apt_install.sh" chromium "the hosted-page browser test"
