#!/usr/bin/env bats
# This script tests: seg-eval
# Also requires: netpbm (pamchannel)

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/seg-eval

# The fixture, by hand (4x3, one ignored truth pixel, 11 scored):
#   truth  0 0 1 1 / 0 2 2 0 / 3 3 4 255
#   pred   0 1 1 1 / 0 2 0 5 / 3 3 0 7
# 7 of 11 correct.  IoU: bg 2/6, Eos 2/3, Baso 1/2, Neut 1, Lymph 0 (absent
# from the prediction), Mono 0 (absent from the truth, not in the mean).
# mean IoU over the 5 truth classes = (1/3 + 2/3 + 1/2 + 1 + 0) / 5 = 0.5.
@test "seg-eval: hand-computed scores on an RGB_LABEL truth" {
	run --separate-stderr seg-eval "$F/truth.pam" "$F/pred.pgm"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == *"pixels: 11"* ]]
	[[ "$output" == *"pixel_accuracy: 0.636364"* ]]
	[[ "$output" == *"mean_iou: 0.500000"* ]]
	[[ "$output" == *"  background: 0.333333"* ]]
	[[ "$output" == *"  Eosinophil: 0.666667"* ]]
	[[ "$output" == *"  Lymphocyte: 0.000000"* ]]
	[[ "$output" == *"  Monocyte: 0.000000"* ]]
	[[ "$output" == *"  Thrombocyte: null"* ]]
	[[ "$output" == *"    - [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]"* ]]
	diff <(printf '%s\n' "$output") "$F/expected.yaml"
}

@test "seg-eval: a PGM truth gives the same report" {
	run seg-eval "$F/truth.pgm" "$F/pred.pgm"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "$output") "$F/expected.yaml"
}

@test "seg-eval: Dice by hand" {
	run seg-eval "$F/truth.pam" "$F/pred.pgm"
	sed -n '/^dice:/,/^confusion:/p' <<<"$output" >"$BATS_TEST_TMPDIR/dice"
	grep -qx '  background: 0.500000' "$BATS_TEST_TMPDIR/dice"
	grep -qx '  Eosinophil: 0.800000' "$BATS_TEST_TMPDIR/dice"
	grep -qx '  Basophil: 0.666667' "$BATS_TEST_TMPDIR/dice"
	grep -qx '  Neutrophil: 1.000000' "$BATS_TEST_TMPDIR/dice"
}

@test "seg-eval: output is YAML that a parser reads" {
	py=$(numpy_python) || skip "no python3 with numpy"
	"$py" -c 'import yaml' 2>/dev/null || skip "no python3-yaml"
	seg-eval "$F/truth.pam" "$F/pred.pgm" >"$BATS_TEST_TMPDIR/r.yaml"
	run "$py" -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(d["iou"]["Basophil"], d["mean_iou"], d["iou"]["Healthy RBC"])' "$BATS_TEST_TMPDIR/r.yaml"
	[ "$output" = "0.5 0.5 None" ]
}

@test "seg-eval: --tsv table" {
	run seg-eval --tsv "$F/truth.pam" "$F/pred.pgm"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'class\tiou\tdice\ttruth_pixels\tpred_pixels')" ]
	[ "${lines[3]}" = "$(printf 'Basophil\t0.500000\t0.666667\t2\t1')" ]
	[[ "$output" == *"$(printf 'mean_iou\t0.500000')"* ]]
}

@test "seg-eval: a perfect prediction scores 1" {
	pamchannel -tupletype GRAYSCALE 3 <"$F/truth.pam" >"$BATS_TEST_TMPDIR/p.pgm"
	run seg-eval "$F/truth.pam" "$BATS_TEST_TMPDIR/p.pgm"
	[[ "$output" == *"pixel_accuracy: 1.000000"* ]]
	[[ "$output" == *"mean_iou: 1.000000"* ]]
}

@test "seg-eval: counts images in a stream" {
	cat "$F/truth.pam" "$F/truth.pam" >"$BATS_TEST_TMPDIR/t2.pam"
	cat "$F/pred.pgm" "$F/pred.pgm" >"$BATS_TEST_TMPDIR/p2.pgm"
	run seg-eval "$BATS_TEST_TMPDIR/t2.pam" "$BATS_TEST_TMPDIR/p2.pgm"
	[[ "$output" == *"images: 2"* ]]
	[[ "$output" == *"pixels: 22"* ]]
	[[ "$output" == *"pixel_accuracy: 0.636364"* ]]
}

@test "seg-eval: fewer predictions than truths" {
	cat "$F/truth.pam" "$F/truth.pam" >"$BATS_TEST_TMPDIR/t2.pam"
	run --separate-stderr seg-eval "$BATS_TEST_TMPDIR/t2.pam" "$F/pred.pgm"
	assert_fails_cleanly "pred.pgm: has 1 images"
}

@test "seg-eval: mismatched sizes name the image" {
	pgmmake 0 5 3 >"$BATS_TEST_TMPDIR/p.pgm"
	run --separate-stderr seg-eval "$F/truth.pam" "$BATS_TEST_TMPDIR/p.pgm"
	assert_fails_cleanly "p.pgm: image 1 is 5x3, the truth is 4x3"
}

@test "seg-eval: a prediction value that is not a class" {
	printf 'P5\n4 3\n255\n\0\0\0\0\0\0\0\0\0\0\0\14' >"$BATS_TEST_TMPDIR/p.pgm"
	run --separate-stderr seg-eval "$F/truth.pam" "$BATS_TEST_TMPDIR/p.pgm"
	assert_fails_cleanly "label value 12 at (3,2) is not a class (0..9), a partial label or 255"
}

@test "seg-eval: truth with a partial label is not scored, like ignore" {
	# the fixture's ignored pixel as the White cell partial label (254)
	{ printf 'P5\n4 3\n255\n'; tail -c 12 "$F/truth.pgm" | head -c 11
	  printf '\376'; } >"$BATS_TEST_TMPDIR/t.pgm"
	run seg-eval "$BATS_TEST_TMPDIR/t.pgm" "$F/pred.pgm"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "$output") "$F/expected.yaml"
	# and predicted on a scored pixel, it counts as unpredicted
	{ printf 'P5\n4 3\n255\n'; printf '\376'; tail -c 11 "$F/pred.pgm"; } \
	    >"$BATS_TEST_TMPDIR/p.pgm"
	run seg-eval "$F/truth.pgm" "$BATS_TEST_TMPDIR/p.pgm"
	[ "$status" -eq 0 ]
	[[ "$output" == *"unpredicted: 1"* ]]
}

@test "seg-eval: needs two operands" {
	run --separate-stderr seg-eval "$F/truth.pam"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"usage: seg-eval"* ]]
}

@test "seg-eval: --help and --version" {
	run seg-eval --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: seg-eval "* ]]
	run seg-eval --version
	[ "$status" -eq 0 ]
	[[ "$output" == "seg-eval (smearseg) "* ]]
}

# --binary by hand: truth cells are the 7 non-zero scored pixels, the
# prediction marks 7 too; 5 agree.  cell IoU = 5 / (5 + 2 + 2).
@test "seg-eval: --binary scores cell against background" {
	run seg-eval --binary "$F/truth.pam" "$F/pred.pgm"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pixel_accuracy: 0.636364"* ]]
	[[ "$output" == *"  cell: 0.555556"* ]]
	[[ "$output" == *"  background: 0.333333"* ]]
	[[ "$output" == *"    - [2, 5]"* ]]
	[[ "$output" != *"Eosinophil"* ]]
}
