#!/usr/bin/env bats
# This script tests: the class table reader (lib/classes.c, lib/yamldoc.c)
#   through colorize, and the share-directory lookup (lib/paths.c)
# Also requires: nothing else

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/seg-eval

table() { # write a share dir with classes.yaml from stdin
	mkdir -p "$BATS_TEST_TMPDIR/share"
	cat >"$BATS_TEST_TMPDIR/share/classes.yaml"
	export SMEARSEG_SHARE="$BATS_TEST_TMPDIR/share"
}

@test "classes: the shipped table has the design's names in order" {
	run bash -c "seg-eval --tsv '$F/truth.pam' '$F/pred.pgm' | cut -f1 | sed -n 2,11p | paste -sd,"
	[ "$output" = "background,Eosinophil,Basophil,Neutrophil,Lymphocyte,Monocyte,Thrombocyte,Platelet clump,Infected RBC,Healthy RBC" ]
}

@test "classes: a custom table changes the colours" {
	table <<-'EOF2'
	classes:
	  - {index: 0, name: bg, colour: "#010203"}
	  - {index: 1, name: a, colour: "#040506"}
	  - {index: 2, name: b, colour: "#070809"}
	  - {index: 3, name: c, colour: "#0a0b0c"}
	  - {index: 4, name: d, colour: "#0d0e0f"}
	  - {index: 5, name: e, colour: "#101112"}
	EOF2
	run bash -c "printf 'P5\n2 1\n255\n\0\5' | colorize | tail -c 6 | od -An -tu1"
	[ "$(echo $output)" = "1 2 3 16 17 18" ]
}

@test "classes: an unknown key names the file and line" {
	table <<-'EOF2'
	classes:
	  - {index: 0, name: bg, colour: "#000000"}
	  - {index: 1, name: a, color: "#ffffff"}
	EOF2
	run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "share/classes.yaml:3: unknown key 'color'"
}

@test "classes: indices out of order" {
	table <<-'EOF2'
	classes:
	  - {index: 0, name: bg, colour: "#000000"}
	  - {index: 2, name: a, colour: "#ffffff"}
	EOF2
	run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "classes.yaml:3: index: expected 1, got 2"
}

@test "classes: a bad colour" {
	table <<-'EOF2'
	classes:
	  - {index: 0, name: bg, colour: "#000000"}
	  - {index: 1, name: a, colour: "#fffff"}
	EOF2
	run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "classes.yaml:3: colour: '#fffff' is not #rrggbb"
}

@test "classes: duplicate names, compared loosely" {
	table <<-'EOF2'
	classes:
	  - {index: 0, name: Healthy RBC, colour: "#000000"}
	  - {index: 1, name: healthy_rbc, colour: "#ffffff"}
	EOF2
	run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "classes.yaml:3: duplicate class name 'healthy_rbc'"
}

@test "classes: a partial label is drawn in its own colour" {
	table <<-'EOF2'
	classes:
	  - {index: 0, name: bg, colour: "#010203"}
	  - {index: 1, name: a, colour: "#040506"}
	  - {index: 2, name: b, colour: "#070809"}
	partial:
	  - {index: 200, name: a or b, colour: "#0a0b0c", members: [a, B]}
	EOF2
	run bash -c "printf 'P5\n2 1\n255\n\2\310' | colorize | tail -c 6 | od -An -tu1"
	[ "$(echo $output)" = "7 8 9 10 11 12" ]
}

@test "classes: bad partial labels name the file, line and problem" {
	head='classes:
  - {index: 0, name: bg, colour: "#000000"}
  - {index: 1, name: a, colour: "#ffffff"}
  - {index: 2, name: b, colour: "#ffffff"}
partial:'
	for bad in \
	    '{index: 200, name: x, colour: "#000000", members: [a, c]}|members: no class '"'c'" \
	    '{index: 200, name: x, colour: "#000000", members: [a]}|needs two or more members' \
	    '{index: 200, name: x, colour: "#000000", members: [a, a]}|members: '"'a'"' twice' \
	    '{index: 200, name: x, colour: "#000000"}|needs a '"'members'"' list' \
	    '{index: 2, name: x, colour: "#000000", members: [a, b]}|index' \
	    '{index: 255, name: x, colour: "#000000", members: [a, b]}|index' \
	    '{index: 200, name: A, colour: "#000000", members: [a, b]}|duplicate class name '"'A'"
	do
		table <<<"$(printf '%s\n  - %s\n' "$head" "${bad%%|*}")"
		run --separate-stderr colorize "$F/pred.pgm"
		assert_fails_cleanly "classes.yaml:6"
		[[ "$stderr" == *"${bad#*|}"* ]]
	done
	table <<<"$(printf '%s\n  - %s\n  - %s\n' "$head" \
	    '{index: 200, name: x, colour: "#000000", members: [a, b]}' \
	    '{index: 200, name: y, colour: "#000000", members: [a, b]}')"
	run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "classes.yaml:7: duplicate partial label index 200"
}

@test "classes: invalid YAML" {
	table <<-'EOF2'
	classes: [
	EOF2
	run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "classes.yaml:2: invalid YAML"
}

@test "classes: SMEARSEG_SHARE without a table" {
	SMEARSEG_SHARE="$BATS_TEST_TMPDIR" run --separate-stderr colorize "$F/pred.pgm"
	assert_fails_cleanly "SMEARSEG_SHARE=$BATS_TEST_TMPDIR: no classes.yaml there"
}

@test "classes: found next to the program without SMEARSEG_SHARE" {
	run env -u SMEARSEG_SHARE colorize "$F/pred.pgm"
	[ "$status" -eq 0 ]
}
