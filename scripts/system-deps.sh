#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing:
# a PostgreSQL server (the suite runs a second time against a throwaway cluster) and
# Chromium (the browser tests drive it with Playwright), npm (axe-core); Pango and a font for WeasyPrint's PDFs.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
# npm installs axe-core for the browser tests' accessibility checks (package.json)
command -v npm >/dev/null || need+=(npm)
# WeasyPrint (PDF reports) loads Pango through cffi, and needs at least one font
libs=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)
grep -q 'libpango-1.0.so' <<<"$libs" || need+=(libpango-1.0-0)
grep -q 'libpangoft2-1.0.so' <<<"$libs" || need+=(libpangoft2-1.0-0)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
