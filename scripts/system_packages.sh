#!/bin/sh
# The Debian packages `make test` needs beyond Python: bubblewrap, util-linux (setpriv, unshare,
# prlimit, mount) and iproute2 for the sandbox that runs code the platform did not write, and
# Chromium for the browser tests. Installs the missing ones when run as root with apt-get;
# otherwise prints the one line to run and fails. Then checks that the sandbox can start here.
#   scripts/system_packages.sh [--check]     (--check: install nothing, only report)
set -eu

missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
{ command -v setpriv && command -v unshare && command -v prlimit && command -v mount; } >/dev/null 2>&1 \
  || missing="$missing util-linux"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
[ -x /usr/bin/chromium ] || missing="$missing chromium"

if [ -n "$missing" ]; then
  if [ "${1:-}" != "--check" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || echo "apt-get update failed; installing from the package lists at hand" >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "missing Debian packages:$missing — run: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

# The sandbox runs as HIVE_SANDBOX_UID (default 65534) when the worker is root, else as the worker.
if [ "$(id -u)" = 0 ]; then
  uid="${HIVE_SANDBOX_UID:-65534}"
  probe="setpriv --reuid=$uid --regid=$uid --clear-groups"
else
  uid="$(id -u)"
  probe=""
fi
if ! failure=$($probe bwrap --unshare-all --die-with-parent --ro-bind / / true 2>&1); then
  echo "bubblewrap cannot create the sandbox's namespaces as uid $uid: $failure" >&2
  echo "allow unprivileged user namespaces: sysctl -w user.max_user_namespaces=10000" \
    "(and on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)" >&2
  exit 1
fi
