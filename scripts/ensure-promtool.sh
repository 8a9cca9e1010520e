#!/usr/bin/env bash
# promtool checks the alert rules; Debian ships it in the prometheus package. Installs it when
# missing and we may (root), otherwise says what to install.
set -euo pipefail
command -v promtool >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "promtool is missing: install Debian's prometheus package (apt-get install prometheus)" >&2
  exit 1
fi
echo "installing promtool (Debian package prometheus)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
