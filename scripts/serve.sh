#!/usr/bin/env bash
# Run the server on its SQLite default (sqlite:///bulkbill.db), migrating it first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/bulkbill serve "$@"
