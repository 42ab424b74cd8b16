#!/usr/bin/env bash
# Installs Debian's rsyslog (with the GnuTLS stream driver) for the audit syslog integration test.
# The test starts its own rsyslogd processes with their own configs; no system daemon is started here.
set -euo pipefail

gtls_present () {
  compgen -G '/usr/lib/*/rsyslog/lmnsd_gtls.so' >/dev/null || compgen -G '/usr/lib/rsyslog/lmnsd_gtls.so' >/dev/null
}

if command -v rsyslogd >/dev/null 2>&1 && gtls_present; then
  echo "rsyslog: $(rsyslogd -v | head -n 1)"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Keep the package scripts from starting a system rsyslogd: policy-rc.d exit 101 = "action forbidden".
policy=/usr/sbin/policy-rc.d
made_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 0755 "$policy"
  made_policy=true
fi
cleanup () { if [ "$made_policy" = true ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update
apt-get install -y --no-install-recommends rsyslog rsyslog-gnutls
echo "rsyslog: $(rsyslogd -v | head -n 1)"
