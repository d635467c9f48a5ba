#!/usr/bin/env bash
# Installs what the test suite needs from Debian: Chromium (for Playwright), PostgreSQL (the
# suite starts its own throwaway cluster), and WebKitGTK with Debian's PyGObject under Xvfb (the
# second WebView engine, tests/support/webkit_host.py, runs on Debian's own python3 so nothing
# is compiled into the venv). Does nothing when all are there.
set -euo pipefail

need=()
[ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || need+=(postgresql)
command -v npm > /dev/null || need+=(npm)
command -v Xvfb > /dev/null || need+=(xvfb)
[ -x /usr/bin/python3 ] && [ -d /usr/lib/python3/dist-packages/gi ] || need+=(python3-gi)
compgen -G "/usr/lib/python3/dist-packages/gi/_gi_cairo*.so" > /dev/null || need+=(python3-gi-cairo)
compgen -G "/usr/lib/*/girepository-1.0/WebKit2-4.1.typelib" > /dev/null || need+=(gir1.2-webkit2-4.1)
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
