#!/usr/bin/env bats
# This script tests: share/models/default.safetensors and make demo
# Also requires: unet-infer, tensor-info, seg-eval, netpbm, make

load test_helper

M=$TOP/share/models/default.safetensors

@test "default model: carries its architecture, classes, normalisation and history" {
	run tensor-info -m "$M"
	[ "$status" -eq 0 ]
	[[ "$output" == *"format=smearseg-unet"* ]]
	[[ "$output" == *"unet.config=model:"*"widths: [16, 32, 64, 128]"* ]]
	[[ "$output" == *'classes=[{"index":0,"name":"background"'* ]]
	[[ "$output" == *"input.mean=["* ]]
	[[ "$output" == *"pixel_scale=40x"* ]]
	[[ "$output" == *'training.history=[{"epoch": 1,'* ]]
	[[ "$output" =~ "head.weight F"(16|32)" 10x16x1x1" ]]
}

@test "default model: segments a smear larger than its window" {
	jpegtopnm "$TOP/share/blocks/bccd/JPEGImages/BloodImage_00003.jpg" 2>/dev/null |
	    pamscale 0.37 >"$BATS_TEST_TMPDIR/s.ppm"
	run --separate-stderr bash -c "unet-infer -q -m '$M' '$BATS_TEST_TMPDIR/s.ppm' | pamfile"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PGM raw, 237 by 178"* ]]
}

@test "make demo: writes the results and their index" {
	run make -C "$TOP" --no-print-directory demo-run DEMO="$BATS_TEST_TMPDIR/demo"
	[ "$status" -eq 0 ]
	[[ "$output" == *"results in $BATS_TEST_TMPDIR/demo/"* ]]
	for f in index.md test-report.yaml test-report.tsv test-compare-0.png \
	    smear-00005.png smear-00005-classes.png smear-00005-overlay.png \
	    smear-00005-counts.yaml; do
		[ -s "$BATS_TEST_TMPDIR/demo/$f" ] || { echo "no $f"; false; }
	done
	grep -q "^pixel_accuracy: 0\.[0-9]*" "$BATS_TEST_TMPDIR/demo/test-report.yaml"
	grep -q "^images: 144" "$BATS_TEST_TMPDIR/demo/test-report.yaml"
}
