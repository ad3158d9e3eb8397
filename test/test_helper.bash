# test_helper.bash - loaded by every bats file.
#
# Puts the in-tree programs first on PATH (so an installed copy is never
# tested by mistake), points the programs at the in-tree share/, and gives
# helpers shared by the tests.
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PATH="$TOP/bin:$PATH"
SMEARSEG_SHARE="$TOP/share"
FIXTURES="$BATS_TEST_DIRNAME/fixtures"
export PATH SMEARSEG_SHARE FIXTURES TOP

# A python3 that has numpy, or nothing.
numpy_python() {
	local p
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# assert_fails_cleanly: after `run --separate-stderr`, check a non-zero
# status, exactly one line on stderr that contains $1, and no stdout.
assert_fails_cleanly() {
	if [ "$status" -eq 0 ]; then
		echo "expected failure, got status 0" >&2; return 1
	fi
	if [ -n "$output" ]; then
		echo "expected no stdout, got: ${output:0:200}" >&2; return 1
	fi
	if [ "${#stderr_lines[@]}" -ne 1 ]; then
		echo "expected one stderr line, got ${#stderr_lines[@]}: $stderr" >&2; return 1
	fi
	if [[ "$stderr" != *"$1"* ]]; then
		echo "stderr '$stderr' does not contain '$1'" >&2; return 1
	fi
}

# st_header FILE: the JSON header of safetensors FILE, padding included.
st_header() {
	local hlen
	hlen=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
	tail -c +9 "$1" | head -c "$hlen"
}

# st_edit FILE SED-SCRIPT: rewrite the JSON header of safetensors FILE
# through sed -E, re-pad it to a multiple of 8 and fix its length; the
# data bytes stay as they are.
st_edit() {
	local f=$1 hlen h n i
	hlen=$(od -An -t u8 -N 8 "$f" | tr -d ' ')
	h=$(st_header "$f" | sed -E "$2")
	h=${h%"${h##*[! ]}"}
	while [ $(( ${#h} % 8 )) -ne 0 ]; do h="$h "; done
	n=${#h}
	{
		for i in 0 1 2 3 4 5 6 7; do
			printf "\\$(printf %03o $(( (n >> (8 * i)) & 255 )))"
		done
		printf '%s' "$h"
		tail -c +$((9 + hlen)) "$f"
	} >"$f.edit" && mv "$f.edit" "$f"
}

# no_temporaries DIR...: no ".NAME.tmpXXXXXX" file of the atomic writers
# is left in any DIR.
no_temporaries() {
	local d left
	for d in "$@"; do
		left=$(find "$d" -maxdepth 1 -name '.*.tmp??????' 2>/dev/null)
		if [ -n "$left" ]; then
			echo "temporary files left behind: $left" >&2; return 1
		fi
	done
}

# mkmap W H: write a plain PGM class map of W x H, background 0, painted
# with the discs read from stdin, one per line as "class cx cy r"; a later
# disc paints over an earlier one, lines starting with # are skipped.
mkmap() {
	awk -v w="$1" -v h="$2" '
		/^#/ || NF == 0 { next }
		{ c[++n] = $1; cx[n] = $2; cy[n] = $3; r[n] = $4 }
		END {
			printf "P2\n%d %d\n255\n", w, h
			for (y = 0; y < h; y++)
				for (x = 0; x < w; x++) {
					v = 0
					for (i = 1; i <= n; i++)
						if ((x - cx[i])^2 + (y - cy[i])^2 <= r[i]^2)
							v = c[i]
					printf "%d%s", v, x == w - 1 ? "\n" : " "
				}
		}'
}
