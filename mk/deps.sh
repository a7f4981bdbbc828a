#!/bin/sh
# Installs the Debian packages weft needs, only those that are missing.
# Silent when everything is already there.
set -e
PKGS="build-essential pkg-config libuv1-dev libsodium-dev liblmdb-dev \
libprotobuf-c-dev protobuf-c-compiler libpg-query-dev libcmocka-dev \
libyaml-dev libxxhash-dev lmdb-utils sqlite3 clang clang-format cppcheck \
iproute2 postgresql serf \
gnuplot-nox"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
# Node.js and npm run only the DuckDB benchmark peer. Any installation
# will do (a vendor's nodejs package already carries npm), so check the
# commands, not Debian's package names.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
