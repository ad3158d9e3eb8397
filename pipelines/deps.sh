#!/bin/sh
# deps.sh REQUIRED... -- OPTIONAL...
# Install the missing Debian packages when run as root; otherwise print the
# exact apt-get line and fail if a required one is missing.
missing_req= missing_opt= opt=0
for p in "$@"; do
	if [ "$p" = -- ]; then opt=1; continue; fi
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps: not a Debian system; install the equivalents of: $*" | sed 's/ -- / /' >&2
		exit 0
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		if [ $opt = 0 ]; then missing_req="$missing_req $p"; else missing_opt="$missing_opt $p"; fi
	fi
done
missing="$missing_req$missing_opt"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$missing" >&2
	apt-get update -qq >&2 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2 && exit 0
	[ -z "$missing_req" ] && { echo "deps: optional packages failed to install:$missing_opt" >&2; exit 0; }
	exit 1
fi
echo "deps: missing Debian packages; install them as root with:" >&2
echo "  apt-get install$missing" >&2
[ -z "$missing_req" ] && exit 0
exit 1
