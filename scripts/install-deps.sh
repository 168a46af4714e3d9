#!/usr/bin/env bash
# Debian packages plumb's tests and demo need on this machine: sshd for the
# transport tests and the demo hosts, debootstrap/dpkg-dev/apt-utils to build
# the host image and its offline apt repository, sudo for become tests;
# ansible-core and python3-jinja2 are the oracles of the differential tests;
# ansible (Debian's collections) adds the oracles for ini_file, sysctl, timezone,
# ufw, authorized_key (community.general, ansible.posix).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=(openssh-server openssh-client debootstrap debian-archive-keyring iproute2 sudo dpkg-dev apt-utils util-linux procps openssl ca-certificates ansible-core ansible python3-jinja2)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
  exit 1
fi
# Keep package scripts from starting services (sshd on :22) on this machine.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
