#!/usr/bin/env bats
# This script tests: the command-line contract of every program in bin/
#   (--help, --version, unknown options) and that each has a man page
# Also requires: groff (man)

load test_helper

programs() {
	local p
	for p in "$TOP"/bin/*; do
		[ -x "$p" ] && basename "$p"
	done
}

@test "contract: every program answers --help on stdout with status 0" {
	for p in $(programs); do
		run --separate-stderr "$p" --help
		[ "$status" -eq 0 ] || { echo "$p: status $status"; false; }
		[[ "${lines[0]}" == "usage: $p "* ]] || { echo "$p: ${lines[0]}"; false; }
		[ -z "$stderr" ] || { echo "$p wrote to stderr"; false; }
	done
}

@test "contract: every program answers --version" {
	for p in $(programs); do
		run --separate-stderr "$p" --version
		[ "$status" -eq 0 ]
		[[ "$output" == "$p (smearseg) "* ]] || { echo "$p: $output"; false; }
	done
}

@test "contract: an unknown option is a usage error on stderr" {
	for p in $(programs); do
		run --separate-stderr "$p" --no-such-option
		[ "$status" -eq 1 ] || { echo "$p: status $status"; false; }
		[ -z "$output" ] || { echo "$p wrote to stdout"; false; }
		[ "${stderr_lines[0]}" = "$p: unknown option '--no-such-option'" ] ||
		    { echo "$p: ${stderr_lines[0]}"; false; }
		[[ "${stderr_lines[1]}" == "usage: $p "* ]]
	done
}

@test "contract: every program has a man page with the required sections" {
	for p in $(programs); do
		m="$TOP/share/man/$p.1"
		[ -f "$m" ] || { echo "no man page for $p"; false; }
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" "SEE ALSO"; do
			grep -q "^\.Sh $s\$" "$m" || { echo "$m: no $s"; false; }
		done
	done
}

@test "contract: every man page renders without warnings" {
	command -v groff >/dev/null || skip "no groff"
	for m in "$TOP"/share/man/*.1; do
		run --separate-stderr groff -mdoc -Tutf8 -ww -z "$m"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ] || { echo "$m: $stderr"; false; }
	done
}
