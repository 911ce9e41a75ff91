#!/usr/bin/env bash
# api + worker against the local PostgreSQL (127.0.0.1:5432, database test) and Redis
# (127.0.0.1:6379), without Docker. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export NOX_DATABASE_URL="${NOX_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
export NOX_REDIS_URL="${NOX_REDIS_URL:-redis://127.0.0.1:6379/0}"
export NOX_SECRET_KEY="${NOX_SECRET_KEY:-$(.venv/bin/python -c 'import secrets;print(secrets.token_urlsafe(48))')}"
.venv/bin/noxfx db upgrade
.venv/bin/noxfx data bootstrap >/dev/null
.venv/bin/noxfx worker &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
.venv/bin/noxfx serve
