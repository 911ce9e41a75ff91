#!/usr/bin/env bash
# Installs Debian's chromium (for the browser tests) when it is missing. Never Debian's nodejs.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian chromium for the browser tests" >&2
$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null
}
command -v chromium >/dev/null
