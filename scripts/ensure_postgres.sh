#!/usr/bin/env bash
# The test suite starts its own throw-away PostgreSQL cluster; make sure the binaries exist.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian package) for the test suite..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
else
  echo "PostgreSQL (initdb/pg_ctl) is not installed; PostgreSQL tests will be skipped (or fail under CI=true)." >&2
fi
