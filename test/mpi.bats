#!/usr/bin/env bats
# This script tests: unet-train under mpirun (gradient allreduce, rank 0
#   duties, resume, failure of a rank)
# Also requires: openmpi-bin (mpirun), tensor-diff, tensor-info

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml

setup() {
	command -v mpirun >/dev/null || skip "no mpirun"
	unet-train --help | grep -q . || skip "no unet-train"
	ldd "$TOP/bin/unet-train" | grep -q libmpi || skip "unet-train built without MPI"
	# CI runs as root; OpenMPI refuses that unless told; 2 cores may be
	# fewer than the ranks asked for
	MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np"
}

train() {
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 "$@"
}

@test "mpi: 2 ranks at batch b give the model of 1 rank at batch 2b" {
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 3 -o "$BATS_TEST_TMPDIR/two.st" -l "$BATS_TEST_TMPDIR/two.jsonl"
	train -b 4 -e 3 -o "$BATS_TEST_TMPDIR/one.st" -l "$BATS_TEST_TMPDIR/one.jsonl"
	# every tensor within 1e-5 relative (Euclidean norm), and every
	# element within 1e-5 relative or 1e-6 absolute (weights are ~0.1)
	run tensor-diff -q -n -r 1e-5 "$BATS_TEST_TMPDIR/two.st" "$BATS_TEST_TMPDIR/one.st"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run tensor-diff -q -r 1e-5 -a 1e-6 "$BATS_TEST_TMPDIR/two.st" "$BATS_TEST_TMPDIR/one.st"
	[ "$status" -eq 0 ]
	# and the runs really trained: the weights moved from their start
	train -b 4 -e 1 -o "$BATS_TEST_TMPDIR/e1.st"
	run tensor-diff -q "$BATS_TEST_TMPDIR/e1.st" "$BATS_TEST_TMPDIR/one.st"
	[ "$status" -eq 1 ]
	# rank 0 alone logs
	run wc -l <"$BATS_TEST_TMPDIR/two.jsonl"
	[ "$output" -eq 3 ]
	grep -q '"ranks": 2' "$BATS_TEST_TMPDIR/two.jsonl"
}

@test "mpi: gradients averaged in buckets during the backward pass equal one allreduce" {
	# 0.001 MB = 262 floats: every layer of the tiny network spans
	# several buckets, started while the backward pass runs
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 2 --bucket-mb 0.001 -o "$BATS_TEST_TMPDIR/buckets.st"
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 2 --bucket-mb 0 -o "$BATS_TEST_TMPDIR/whole.st"
	# two ranks: each sum is a + b, whatever the algorithm
	cmp "$BATS_TEST_TMPDIR/buckets.st" "$BATS_TEST_TMPDIR/whole.st"
	run unet-train --bucket-mb -1 -c "$C" -t "$F/train.pam" -v "$F/val.pam" -o "$BATS_TEST_TMPDIR/x.st"
	[ "$status" -ne 0 ]
	[[ "$output" == *bucket-mb* ]]
}

@test "mpi: 4 ranks at batch 1 match 1 rank at batch 4" {
	$MPIRUN 4 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 1 -e 2 -o "$BATS_TEST_TMPDIR/four.st"
	train -b 4 -e 2 -o "$BATS_TEST_TMPDIR/one.st"
	run tensor-diff -q -n -r 1e-5 "$BATS_TEST_TMPDIR/four.st" "$BATS_TEST_TMPDIR/one.st"
	[ "$status" -eq 0 ]
}

@test "mpi: resume under MPI continues from the checkpoint" {
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 2 -o "$BATS_TEST_TMPDIR/r.st" -C "$BATS_TEST_TMPDIR/ck"
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 4 -o "$BATS_TEST_TMPDIR/r.st" -r "$BATS_TEST_TMPDIR/ck"
	run tensor-info -m "$BATS_TEST_TMPDIR/ck/checkpoint.safetensors"
	[[ "$output" == *"checkpoint.epoch=4"* ]]
	[[ "$output" == *'{"epoch": 4,'* ]]
	# the same as 4 epochs straight on 2 ranks
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 4 -o "$BATS_TEST_TMPDIR/s.st" -C "$BATS_TEST_TMPDIR/cks"
	run tensor-diff -q -n -r 1e-5 "$BATS_TEST_TMPDIR/ck/checkpoint.safetensors" \
	    "$BATS_TEST_TMPDIR/cks/checkpoint.safetensors"
	[ "$status" -eq 0 ]
}

@test "mpi: an error on one rank stops the job with a message naming the rank" {
	run --separate-stderr $MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" \
	    -v "$F/val.pam" -b 16 -o "$BATS_TEST_TMPDIR/x.st"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"unet-train (rank "*"): "*"16 tiles, fewer than one global batch (16 x 2 ranks)"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x.st" ]
}

@test "mpi: a killed rank ends the job within 10 s; the checkpoint loads" {
	ck="$BATS_TEST_TMPDIR/ck"
	$MPIRUN 2 unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 \
	    -b 2 -e 1000000 -o "$BATS_TEST_TMPDIR/k.st" -C "$ck" 2>"$BATS_TEST_TMPDIR/err" &
	job=$!
	for i in $(seq 100); do
		[ -s "$ck/train.jsonl" ] && [ "$(wc -l <"$ck/train.jsonl")" -ge 3 ] && break
		sleep 0.1
	done
	[ -e "$ck/checkpoint.safetensors" ]
	victim=$(pgrep -f "unet-train -q -c $C .*-C $ck" | tail -1)
	[ -n "$victim" ]
	kill -9 "$victim"
	start=$(date +%s)
	status=0
	wait "$job" || status=$?
	elapsed=$(($(date +%s) - start))
	[ "$status" -ne 0 ]
	[ "$elapsed" -le 10 ]
	! pgrep -f "unet-train -q -c $C .*-C $ck"
	# the last checkpoint is whole and resumes
	tensor-info "$ck/checkpoint.safetensors" >/dev/null
	e=$(tensor-info -m "$ck/checkpoint.safetensors" | sed -n 's/^checkpoint.epoch=//p')
	train -b 4 -e $((e + 1)) -o "$BATS_TEST_TMPDIR/k2.st" -r "$ck"
	run tensor-info -m "$ck/checkpoint.safetensors"
	[[ "$output" == *"checkpoint.epoch=$((e + 1))"* ]]
}
