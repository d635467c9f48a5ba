#!/usr/bin/env bash
# Installs what the test suite needs from Debian: Chromium (for Playwright) and PostgreSQL
# (the suite starts its own throwaway cluster). Does nothing when both are there.
set -euo pipefail

need=()
[ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || need+=(postgresql)
command -v npm > /dev/null || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]}; install them as root: apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
# Debian starts a cluster on install; the tests start their own, so leave the packaged one alone.
