#!/usr/bin/env bash
# apt_install.sh PACKAGE WHAT: install a Debian package the test suite needs, when root with apt-get;
# else say what will be skipped (and fail under CI=true, in the tests that need it).
set -euo pipefail
package=$1 what=$2
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing $package (Debian package) for the test suite..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
else
  echo "$package is not installed; $what will be skipped (or fail under CI=true)." >&2
fi
