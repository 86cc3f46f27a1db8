#!/usr/bin/env bash
# Make sure `wrk` (the HTTP load generator the benchmark drives) is installed.
# Debian/Ubuntu as root: installs the `wrk` package with apt-get. Starts nothing.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: wrk is missing; install it (Debian: apt-get install wrk)" >&2
    exit 1
fi
echo "installing wrk from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk >/dev/null
command -v wrk >/dev/null
