#!/usr/bin/env bats
# This script tests: tensor-diff
# Also requires: unet-train

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet

setup_file() {
	for s in 1 2; do
		unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$F/train.pam" -v "$F/val.pam" \
		    -e 1 -s $s -o "$BATS_FILE_TMPDIR/m$s.st"
	done
	unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$F/train.pam" -v "$F/val.pam" \
	    -e 1 -s 1 --half -o "$BATS_FILE_TMPDIR/h1.st"
}

@test "tensor-diff: a file equals itself" {
	run tensor-diff "$BATS_FILE_TMPDIR/m1.st" "$BATS_FILE_TMPDIR/m1.st"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "enc0.conv0.weight 0 0 0" ]]
	run tensor-diff -q "$BATS_FILE_TMPDIR/m1.st" "$BATS_FILE_TMPDIR/m1.st"
	[ -z "$output" ]
}

@test "tensor-diff: other weights are out of tolerance, status 1" {
	run tensor-diff -q "$BATS_FILE_TMPDIR/m1.st" "$BATS_FILE_TMPDIR/m2.st"
	[ "$status" -eq 1 ]
	[[ "$output" == *"OUT OF TOLERANCE"* ]]
}

@test "tensor-diff: F16 weights are within half precision of F32" {
	run tensor-diff -q "$BATS_FILE_TMPDIR/h1.st" "$BATS_FILE_TMPDIR/m1.st"
	[ "$status" -eq 1 ]
	run tensor-diff -q -r 1e-3 -a 1e-6 "$BATS_FILE_TMPDIR/h1.st" "$BATS_FILE_TMPDIR/m1.st"
	[ "$status" -eq 0 ]
}

@test "tensor-diff: -n judges the relative error of each whole tensor" {
	run tensor-diff -q -n -r 1e-3 "$BATS_FILE_TMPDIR/h1.st" "$BATS_FILE_TMPDIR/m1.st"
	[ "$status" -eq 0 ]
	run tensor-diff -q -n -r 1e-6 "$BATS_FILE_TMPDIR/h1.st" "$BATS_FILE_TMPDIR/m1.st"
	[ "$status" -eq 1 ]
	run tensor-diff -n -r 1e-5 "$BATS_FILE_TMPDIR/m1.st" "$BATS_FILE_TMPDIR/m2.st"
	[ "$status" -eq 1 ]
	# RELNORM of unrelated weights is of order 1
	[[ "${lines[0]}" =~ ^enc0.conv0.weight\ [0-9.e-]+\ [0-9.e-]+\ (0\.[1-9]|1\.|2\.) ]]
}

@test "tensor-diff: a missing tensor or another shape is an error, status 2" {
	run --separate-stderr tensor-diff "$BATS_FILE_TMPDIR/m1.st" "$BATS_FILE_TMPDIR/nonexistent.st"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"nonexistent.st: No such file or directory" ]]
	unet-train -q -c <(sed 's/widths: \[4, 8\]/widths: [4, 6]/' "$TOP/share/unet-tiny.yaml") \
	    -t "$F/train.pam" -v "$F/val.pam" -e 1 -o "$BATS_TEST_TMPDIR/w.st"
	run --separate-stderr tensor-diff "$BATS_FILE_TMPDIR/m1.st" "$BATS_TEST_TMPDIR/w.st"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "tensor-diff: $BATS_TEST_TMPDIR/w.st: tensor 'enc1.conv0.weight' differs in shape from $BATS_FILE_TMPDIR/m1.st" ]
}
