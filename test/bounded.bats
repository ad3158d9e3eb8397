#!/usr/bin/env bats
# This script tests: the bounded readers of tensor-info, unet-infer and
#   unet-train: an endless or huge input fails after its header, not when
#   memory runs out
# Also requires: nothing else

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml

# bounded CMD...: CMD under 1 GiB of address space and 60 seconds; an unbounded
# reader is killed or runs out of memory instead of failing with its own
# message.  A sanitizer build reserves terabytes of address space, so
# there the limit is ASan's own, on the resident size.
bounded() {
	if [ "$(cat "$TOP/bin/.variant" 2>/dev/null)" = plain ]; then
		# 1 GiB of address space (no CUDA library is mapped: the
		# CUDA backend is loaded only for --device cuda)
		(ulimit -v 1048576; exec timeout 60 "$@")
	else
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:hard_rss_limit_mb=1024" timeout 60 "$@"
	fi
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

@test "bounded: a model whose input size needs more memory than allowed" {
	T=$BATS_TEST_TMPDIR
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -o "$T/m.st" -e 1
	cp "$T/m.st" "$T/big.st"
	st_edit "$T/big.st" 's/input_size: 32/input_size: 8192/'
	export SMEARSEG_MAX_MEMORY=2048
	run --separate-stderr bounded unet-infer -m "$T/big.st" "$F/val.pam"
	assert_fails_cleanly "unet-infer: $T/big.st: a network of input 8192x8192 needs about"
	[[ "$stderr" == *"MiB for a batch of 8, more than the limit of 2048 MiB"* ]]
	# the same in a config
	sed 's/^  input_size: 32/  input_size: 8192/' "$C" >"$T/big.yaml"
	run --separate-stderr bounded unet-train -c "$T/big.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/n.st"
	assert_fails_cleanly "unet-train: $T/big.yaml: a network of input 8192x8192 needs about"
	# the tiny model itself is well within it
	run bounded unet-infer -m "$T/m.st" "$F/val.pam"
	[ "$status" -eq 0 ]
}

@test "bounded: a Netpbm header that claims a 2 GB image fails where its rows end, before allocating it" {
	# 70 x 7,252,255 RGB_LABEL pixels claimed (2.03 GB, under the 2 GiB
	# limit of one image), 5000 bytes given.  The buffer grows with the
	# rows read, so under 1 GiB of address space the reader reaches the
	# missing rows; cell-count loads no CUDA library.
	printf 'P7\nWIDTH 70\nHEIGHT 7252255\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_LABEL\nENDHDR\n' >"$BATS_TEST_TMPDIR/huge.pam"
	head -c 5000 /dev/zero >>"$BATS_TEST_TMPDIR/huge.pam"
	if [ "$(cat "$TOP/bin/.variant" 2>/dev/null)" = plain ]; then
		run --separate-stderr sh -c 'ulimit -v 1048576; exec cell-count "$1"' sh "$BATS_TEST_TMPDIR/huge.pam"
	else
		run --separate-stderr bounded cell-count "$BATS_TEST_TMPDIR/huge.pam"
	fi
	assert_fails_cleanly "cell-count: $BATS_TEST_TMPDIR/huge.pam: image 1: unreadable or truncated"
}
