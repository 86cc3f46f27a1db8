#!/usr/bin/env bash
# Make sure the servers the tests start are installed: PostgreSQL's server binaries,
# redis-server, Chromium for the browser tests (Debian's, never a downloaded build) and
# promtool (Debian's prometheus) for the alert rules' tests.
# The tests start and stop their own instances; nothing here starts a service.
set -euo pipefail

have_postgres() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/postgres" ]] && return 0
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" && -x "$dir/postgres" ]] && return 0
    done
    command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}

missing=()
have_postgres || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)

if ((${#missing[@]} == 0)); then
    exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing ${missing[*]}; install it (Debian: apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "installing ${missing[*]} from Debian's packages" >&2
# The tests run their own servers: keep the packages from creating and starting theirs
# (PostgreSQL's cluster, redis-server's and prometheus's services).
mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
