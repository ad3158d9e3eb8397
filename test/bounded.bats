#!/usr/bin/env bats
# This script tests: the bounded readers of tensor-info, unet-infer and
#   unet-train: an endless or huge input fails after its header, not when
#   memory runs out
# Also requires: nothing else

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml

# bounded CMD...: CMD under 1 GiB of address space and 60 seconds; an
# unbounded reader is killed or runs out of memory instead of failing
# with its own message.
bounded() {
	(ulimit -v 1048576; exec timeout 60 "$@")
}

@test "bounded: tensor-info /dev/zero fails at the header" {
	run --separate-stderr bounded tensor-info /dev/zero
	assert_fails_cleanly "tensor-info: /dev/zero: not a .npy or safetensors file"
	run --separate-stderr bounded tensor-info -m /dev/zero
	assert_fails_cleanly "/dev/zero: not a .npy or safetensors file"
}

@test "bounded: unet-infer -m /dev/zero fails at the header" {
	run --separate-stderr bounded unet-infer -m /dev/zero "$F/val.pam"
	assert_fails_cleanly "unet-infer: /dev/zero: not a safetensors file (header does not start with '{')"
}

@test "bounded: a safetensors stream longer than its header says" {
	printf '\010\0\0\0\0\0\0\0{}      ' >"$BATS_TEST_TMPDIR/h.st"
	run --separate-stderr bounded sh -c 'cat "$1" /dev/zero | tensor-info -' sh "$BATS_TEST_TMPDIR/h.st"
	assert_fails_cleanly "tensor-info: <stdin>: more than 1048576 bytes after the header (its tensors hold 0)"
}

@test "bounded: a config that is /dev/zero" {
	run --separate-stderr bounded unet-train -c /dev/zero -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$BATS_TEST_TMPDIR/m.st"
	assert_fails_cleanly "unet-train: /dev/zero: larger than 16777216 bytes"
	[ ! -e "$BATS_TEST_TMPDIR/m.st" ]
}
