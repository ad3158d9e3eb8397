#!/usr/bin/env bats
# This script tests: unet-train and unet-infer with --device cuda (the
#   GPU against the CPU, exact resume, 2 ranks on one GPU through the
#   host allreduce, whole smears); without a GPU every test but the
#   first skips (the first hides the GPUs and runs everywhere), and make
#   check-cuda refuses to run
# Also requires: a GPU and a build with nvcc; test_backend_ops (the
#   probe); mpirun for the MPI test; jpegtopnm

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml
B=${SMEARSEG_BUILD:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac

gpu() {
	"$B/test/test_backend_ops" -b cuda -m probe >/dev/null 2>&1
}

train() {
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 "$@"
}

@test "cuda: --device cuda is a clear error where it cannot run" {
	# CUDA_VISIBLE_DEVICES= hides every GPU, so this runs on a GPU
	# machine too
	CUDA_VISIBLE_DEVICES= run --separate-stderr unet-train -c "$C" \
	    -t "$F/train.pam" -v "$F/val.pam" -o "$BATS_TEST_TMPDIR/m.st" \
	    --device cuda
	assert_fails_cleanly "unet-train: "
	[[ "$stderr" == *"no CUDA device here"* || "$stderr" == *"unknown device 'cuda' (this build has: cpu)"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/m.st" ]
}

@test "cuda: unet-train on the GPU has the CPU's losses" {
	gpu || skip "no CUDA device"
	train -e 2 -o "$BATS_TEST_TMPDIR/c.st" -l "$BATS_TEST_TMPDIR/c.jsonl"
	train -e 2 -o "$BATS_TEST_TMPDIR/g.st" -l "$BATS_TEST_TMPDIR/g.jsonl" \
	    --device cuda
	# train and validation losses of each epoch within 1e-3 relative
	for k in train_loss val_loss; do
		paste <(grep -o "\"$k\": [-0-9.e]*" "$BATS_TEST_TMPDIR/c.jsonl" | cut -d' ' -f2) \
		    <(grep -o "\"$k\": [-0-9.e]*" "$BATS_TEST_TMPDIR/g.jsonl" | cut -d' ' -f2) |
		    awk '{ d = $1 - $2; if (d < 0) d = -d; n++;
			   if (d > 1e-3 * ($1 < 0 ? -$1 : $1)) { print "epoch " n ": " $0; bad = 1 } }
			 END { exit bad || n != 2 }'
	done
	run tensor-diff -q -n -r 1e-3 "$BATS_TEST_TMPDIR/g.st" "$BATS_TEST_TMPDIR/c.st"
	[ "$status" -eq 0 ]
}

@test "cuda: resume is exact on the GPU (4 epochs = 2 + resume + 2)" {
	gpu || skip "no CUDA device"
	train -o "$BATS_TEST_TMPDIR/a.st" -e 4 -C "$BATS_TEST_TMPDIR/cka" --device cuda
	train -o "$BATS_TEST_TMPDIR/b.st" -e 2 -C "$BATS_TEST_TMPDIR/ckb" --device cuda
	train -o "$BATS_TEST_TMPDIR/b.st" -e 4 -r "$BATS_TEST_TMPDIR/ckb" --device cuda
	cmp "$BATS_TEST_TMPDIR/a.st" "$BATS_TEST_TMPDIR/b.st"
	cmp "$BATS_TEST_TMPDIR/cka/checkpoint.safetensors" "$BATS_TEST_TMPDIR/ckb/checkpoint.safetensors"
}

@test "cuda: 2 ranks on one GPU (host allreduce) match 1 rank at batch 2b" {
	gpu || skip "no CUDA device"
	command -v mpirun >/dev/null || skip "no mpirun"
	ldd "$TOP/bin/unet-train" | grep -q libmpi || skip "unet-train built without MPI"
	mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 2 \
	    unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 3 --device cuda -o "$BATS_TEST_TMPDIR/two.st"
	train -b 4 -e 3 --device cuda -o "$BATS_TEST_TMPDIR/one.st"
	run tensor-diff -q -n -r 1e-4 "$BATS_TEST_TMPDIR/two.st" "$BATS_TEST_TMPDIR/one.st"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "cuda: unet-infer --device cuda segments a whole smear as the CPU does" {
	gpu || skip "no CUDA device"
	command -v jpegtopnm >/dev/null || skip "no jpegtopnm"
	m=$TOP/share/models/default.safetensors
	jpegtopnm "$TOP/share/eval/bccd/JPEGImages/BloodImage_00005.jpg" \
	    >"$BATS_TEST_TMPDIR/s.ppm" 2>/dev/null
	unet-infer -q -m "$m" "$BATS_TEST_TMPDIR/s.ppm" >"$BATS_TEST_TMPDIR/c.pgm"
	unet-infer -q -m "$m" --device cuda "$BATS_TEST_TMPDIR/s.ppm" >"$BATS_TEST_TMPDIR/g.pgm"
	unet-infer -q -m "$m" --device cuda --precision tf32 "$BATS_TEST_TMPDIR/s.ppm" >"$BATS_TEST_TMPDIR/t.pgm"
	# the same size; at most 0.1% of the pixels (argmax near-ties) differ
	[ "$(pamfile "$BATS_TEST_TMPDIR/c.pgm")" = "$(pamfile "$BATS_TEST_TMPDIR/g.pgm")" ]
	px=$(stat -c %s "$BATS_TEST_TMPDIR/c.pgm")
	for f in g t; do
		n=$(cmp -l "$BATS_TEST_TMPDIR/c.pgm" "$BATS_TEST_TMPDIR/$f.pgm" | wc -l)
		[ $((n * 1000)) -le "$px" ]
	done
}
