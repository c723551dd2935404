#!/usr/bin/env bash
# The test suite starts its own throw-away PostgreSQL cluster; make sure the binaries exist.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
exec "$(dirname "$0")/apt_install.sh" postgresql "PostgreSQL tests (initdb/pg_ctl)"
