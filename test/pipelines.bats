#!/usr/bin/env bats
# This script tests: pipelines/plots.sh, pipelines/eval-bbbc041.sh
# Also requires: gnuplot (optional), netpbm, unet-train, unet-infer, seg-eval

load test_helper

U=$BATS_TEST_DIRNAME/fixtures/unet

@test "plots: training curves and a confusion matrix as PNG" {
	command -v gnuplot >/dev/null || skip "no gnuplot"
	unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$U/train.pam" -v "$U/val.pam" \
	    -e 3 -o "$BATS_TEST_TMPDIR/m.st" -l "$BATS_TEST_TMPDIR/log.jsonl"
	unet-infer -m "$BATS_TEST_TMPDIR/m.st" "$U/val.pam" >"$BATS_TEST_TMPDIR/p.pgm"
	seg-eval "$U/val.pam" "$BATS_TEST_TMPDIR/p.pgm" >"$BATS_TEST_TMPDIR/r.yaml"
	run sh "$TOP/pipelines/plots.sh" -l "$BATS_TEST_TMPDIR/log.jsonl" \
	    -r "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/plots"
	[ "$status" -eq 0 ]
	for p in training-loss training-val confusion; do
		pngtopam "$BATS_TEST_TMPDIR/plots/$p.png" | pamfile | grep -q "by"
	done
}

@test "plots: a missing log is an error" {
	command -v gnuplot >/dev/null || skip "no gnuplot"
	run sh "$TOP/pipelines/plots.sh" -l "$BATS_TEST_TMPDIR/none.jsonl" "$BATS_TEST_TMPDIR/plots"
	[ "$status" -eq 1 ]
	[[ "$output" == *"none.jsonl: empty or missing"* ]]
}

@test "eval-bbbc041: masks become 0/1 maps and the cell IoU is scored" {
	# a fake smear: a dark disc on a pale field, and its mask
	d="$BATS_TEST_TMPDIR/set"
	mkdir -p "$d/images" "$d/masks"
	ppmmake '#e8e0f0' 100 60 | pamtopng >"$d/images/a.png"
	pgmmake 0 100 60 | pnmtopng >"$d/masks/a.png"
	unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$U/train.pam" -v "$U/val.pam" \
	    -e 1 -o "$BATS_TEST_TMPDIR/m.st"
	run sh "$TOP/pipelines/eval-bbbc041.sh" "$BATS_TEST_TMPDIR/m.st" "$d" 0.5 "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pixels: 1500"* ]]
	[[ "$output" == *"classes: [background, cell]"* ]]
	run pamfile "$BATS_TEST_TMPDIR/out/a.truth.pgm"
	[[ "$output" == *"PGM raw, 50 by 30"* ]]
}
