#!/usr/bin/env bash
# Japanese documents need a CJK font (typst bundles none): make sure Debian's IPAex Gothic is there.
set -euo pipefail
[ -d /usr/share/fonts/opentype/ipaexfont-gothic ] && exit 0
exec "$(dirname "$0")/apt_install.sh" fonts-ipaexfont-gothic "the Japanese PDF test"
