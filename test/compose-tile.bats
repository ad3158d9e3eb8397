#!/usr/bin/env bats
# This script tests: compose-tile
# Also requires: make-background, perl with JSON::PP (synthetic samples
#   and checks in test/fixtures), pamchannel, pamfile
load test_helper

setup() {
	MK="$FIXTURES/compose-tile/mksamples.pl"
	CHECK="$FIXTURES/compose-tile/checktiles.pl"
	YAML="$SMEARSEG_SHARE/classes.yaml"
	cd "$BATS_TEST_TMPDIR"
	perl "$MK" Eosinophil:4 Basophil:4 Neutrophil:4 Lymphocyte:4 \
	    Monocyte:4 Thrombocyte:4 "Platelet clump:4" "Healthy RBC:6" \
	    "Infected RBC:6" >samples.pam
	make-background -n 3 -W 300 -H 300 samples.pam >bg.pam
}

@test "compose-tile: RGB_LABEL tiles that pamchannel splits into image and labels" {
	compose-tile -n 5 bg.pam samples.pam >tiles.pam
	[ "$(perl "$CHECK" "$YAML" tiles.pam | cut -d' ' -f1-2)" = "tiles 5" ]
	pamchannel -tupletype RGB 0 1 2 <tiles.pam >img.pam
	pamchannel -tupletype GRAYSCALE 3 <tiles.pam >lab.pam
	[[ "$(pamfile img.pam)" == *"PAM, 224 by 224 by 3"*"RGB"* ]]
	[[ "$(pamfile lab.pam)" == *"PAM, 224 by 224 by 1"*"GRAYSCALE"* ]]
}

@test "compose-tile: records agree with the label maps" {
	compose-tile -n 72 -r rec.jsonl bg.pam samples.pam >tiles.pam
	run perl "$CHECK" "$YAML" tiles.pam rec.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == "tiles 72 objects "*" classes 0,1,2,3,4,5,6,7,8,9" ]]
	[ "$(head -1 rec.jsonl | cut -c1-12)" = '{"tile": 0, ' ]
}

@test "compose-tile: records keep their one-line layout, key order and one-decimal angles" {
	compose-tile -n 36 -r rec.jsonl bg.pam samples.pam >tiles.pam
	perl -ne '
	my $obj = q/\{"class": "[^"]+", "bbox": \[-?\d+, -?\d+, \d+, \d+\], / .
	    q/"pixels": \d+, "sample": "[^"]*", "angle": \d+\.\d, / .
	    q/"flip": (?:true|false)\}/;
	/^\{"tile": \d+, "background": "[^"]*"(?:, "background_id": "[^"]*")?, "crop": \[\d+, \d+\], "objects": \[(?:$obj(?:, $obj)*)?\]\}$/
	    or die "line $.: $_";
	$n++; END { die "no records\n" unless $n == 36 }' rec.jsonl
	grep -q '"angle": [0-9]*\.[1-9]' rec.jsonl
}

@test "compose-tile: objects cut by the border keep their class and a visible bbox" {
	compose-tile -n 40 -c 1 -r rec.jsonl bg.pam samples.pam >tiles.pam
	perl "$CHECK" "$YAML" tiles.pam rec.jsonl
	cut=$(perl -MJSON::PP -ne 'for (@{decode_json($_)->{objects}}) {
	    my ($x, $y, $w, $h) = @{$_->{bbox}};
	    print "$_->{class}\n" if $x == 0 || $y == 0 || $x + $w == 224 ||
	    $y + $h == 224 }' rec.jsonl | wc -l)
	[ "$cut" -gt 10 ]
}

@test "compose-tile: every class combination occurs, balanced" {
	compose-tile -n 72 -r rec.jsonl bg.pam samples.pam >/dev/null
	perl -MJSON::PP -ne 'print join("+", sort map { $_->{class} }
	    @{decode_json($_)->{objects}}), "\n"' rec.jsonl | sort |
	    uniq -c >combos
	[ "$(wc -l <combos)" -eq 36 ]
	[ "$(awk '{ print $1 }' combos | sort -u)" = 2 ]
}

@test "compose-tile: every sample is used about equally often" {
	compose-tile -n 72 -r rec.jsonl bg.pam samples.pam >/dev/null
	perl -MJSON::PP -ne 'print "$_->{class} $_->{sample}\n" for
	    @{decode_json($_)->{objects}}' rec.jsonl | sort | uniq -c |
	    awk '{ n[$2] = $2; c = $1; if (!($2 in lo) || c < lo[$2]) lo[$2] = c;
	    if (c > hi[$2]) hi[$2] = c } END { for (k in n) if (hi[k] - lo[k] > 1)
	    exit 1 }'
}

@test "compose-tile: the same seed gives the same bytes on any number of threads" {
	OMP_NUM_THREADS=1 compose-tile -n 150 -s 4 -r a.jsonl bg.pam \
	    samples.pam >a.pam
	OMP_NUM_THREADS=2 compose-tile -n 150 -s 4 -r b.jsonl bg.pam \
	    samples.pam >b.pam
	cmp a.pam b.pam
	cmp a.jsonl b.jsonl
	compose-tile -n 150 -s 5 bg.pam samples.pam >c.pam
	! cmp -s a.pam c.pam
}

@test "compose-tile: small tiles and a sample stream on stdin" {
	compose-tile -n 20 -S 64 -r rec.jsonl bg.pam - <samples.pam >tiles.pam
	perl "$CHECK" "$YAML" tiles.pam rec.jsonl
	[[ "$(pamfile tiles.pam)" == *"64 by 64 by 4"* ]]
}

@test "compose-tile: an empty-mask sample is rejected and counted" {
	perl "$MK" -p bad "Basophil:1:empty" >bad.pam
	cat samples.pam bad.pam >mix.pam
	run --separate-stderr compose-tile -n 2 bg.pam mix.pam
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"rejected 1 sample with no cell pixel"* ]]
}

@test "compose-tile: bad input fails cleanly" {
	: >empty.pam
	run --separate-stderr compose-tile -n 2 empty.pam samples.pam
	assert_fails_cleanly "empty stream"
	run --separate-stderr compose-tile -n 2 bg.pam empty.pam
	assert_fails_cleanly "empty stream"
	make-background -n 1 -W 100 -H 100 samples.pam >small.pam
	run --separate-stderr compose-tile -n 2 small.pam samples.pam
	assert_fails_cleanly "smaller than the 224x224 tile"
	run --separate-stderr compose-tile -n 2 samples.pam samples.pam
	assert_fails_cleanly "expected RGB_LABEL"
	perl "$MK" "Healthy RBC:2" >rbc.pam
	run --separate-stderr compose-tile -n 2 bg.pam rbc.pam
	assert_fails_cleanly "no white cell, platelet or clump sample"
	perl "$MK" Erythroblast:1 >unknown.pam
	run --separate-stderr compose-tile -n 2 bg.pam unknown.pam
	assert_fails_cleanly "'Erythroblast' is not a cell class"
	perl "$MK" Basophil:1:noid >noid.pam
	run --separate-stderr compose-tile -n 2 -r rec.jsonl bg.pam noid.pam
	assert_fails_cleanly "no 'id' in its metadata"
	[ ! -e rec.jsonl ]
}

@test "compose-tile: misuse prints the usage" {
	run --separate-stderr compose-tile bg.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"need two operands"* ]]
	[[ "$stderr" == *"usage: compose-tile"* ]]
	run --separate-stderr compose-tile - -
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot both be stdin"* ]]
	run --separate-stderr compose-tile -n 0 bg.pam samples.pam
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run --separate-stderr compose-tile --frobnicate bg.pam samples.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unknown option '--frobnicate'"* ]]
}

@test "compose-tile: a sample is brought to the white balance of its background" {
	MEAN="$FIXTURES/make-background/classmean.pl"
	perl "$MK" -m "plasma=250 150 200" Basophil:4 >wb.pam
	compose-tile -n 20 -j 0 -u bg.pam wb.pam >own.pam
	compose-tile -n 20 -j 0 bg.pam wb.pam >bal.pam
	perl "$MEAN" 2 own.pam | grep -v none >own.txt
	perl "$MEAN" 2 bal.pam | grep -v none >bal.txt
	[ "$(wc -l <own.txt)" -ge 10 ]
	# the backgrounds' plasma is under 240 in red (ratio < 0.96) and over
	# 150 in green (ratio > 1): red falls, green rises
	paste -d' ' own.txt bal.txt | awk '{ if (!($4 < $1 - 4 && $5 > $2 + 20)) exit 1 }'
	# a sample without a plasma colour is left as it is
	perl "$MK" Basophil:4 >plain.pam
	compose-tile -n 20 -j 0 bg.pam plain.pam >a.pam
	compose-tile -n 20 -j 0 -u bg.pam plain.pam >b.pam
	cmp a.pam b.pam
}

@test "compose-tile: -R sets the share of tiles cut from real backgrounds" {
	# one background of three made "real" (pamsplit would drop comments)
	LC_ALL=C sed 's/^#kind: healthy$/#kind: real/' bg.pam >mixed.pam
	LC_ALL=C sed 's/^#kind: .*/#kind: real/' bg.pam >real.pam
	[ "$(grep -ac '^#kind: real$' mixed.pam)" -eq 1 ]
	compose-tile -n 200 -R 0.5 -r rec.jsonl mixed.pam samples.pam >t.pam
	n=$(grep -c '"background": "real"' rec.jsonl)
	[ "$n" -ge 75 ] && [ "$n" -le 125 ]
	compose-tile -n 50 -R 0 -r rec.jsonl mixed.pam samples.pam >t.pam
	[ "$(grep -c '"background": "real"' rec.jsonl)" -eq 0 ]
	compose-tile -n 20 -R 0 -r rec.jsonl real.pam samples.pam >t.pam
	[ "$(grep -c '"background": "real"' rec.jsonl)" -eq 20 ]
	run --separate-stderr compose-tile -R 1.5 mixed.pam samples.pam
	assert_fails_cleanly "real share"
}
