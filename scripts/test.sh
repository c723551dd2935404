#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, static checks, then every test on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/ensure_postgres.sh
scripts/ensure_chromium.sh
scripts/ensure_document_fonts.sh
scripts/check.sh
# One worker per core (pytest-xdist): each worker starts its own throw-away PostgreSQL cluster.
exec .venv/bin/pytest -p no:cacheprovider -n auto "$@"
