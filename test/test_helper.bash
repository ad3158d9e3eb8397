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
