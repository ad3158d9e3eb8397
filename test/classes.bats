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

@test "classes: the shipped table has DESIGN.md's names in order" {
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
