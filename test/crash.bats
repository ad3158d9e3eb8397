#!/usr/bin/env bats
# This script tests: unet-train's crash safety: killed with SIGKILL at
#   random points and resumed each time, a run ends with the same model
#   and checkpoint, byte for byte, as one that never stopped, with no
#   temporary file left and every epoch logged once
# Also requires: nothing else
#
# SMEARSEG_KILL_POINTS sets the number of kills (3 here; test/bench/crash.sh
# runs 20), SMEARSEG_KILL_SEED the random points.

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml
EPOCHS=4

ARGS=(-q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -j 1 -e $EPOCHS)

train() {
	unet-train "${ARGS[@]}" "$@"
}

@test "crash: kill -9 at random points, then --resume, gives the uninterrupted run's bytes" {
	T=$BATS_TEST_TMPDIR
	n=${SMEARSEG_KILL_POINTS:-3}
	RANDOM=${SMEARSEG_KILL_SEED:-14}
	t0=$(date +%s%N)
	train -o "$T/ref.st" -C "$T/ref"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt 0 ]

	kills=0
	while [ "$kills" -lt "$n" ]; do
		# unet-train itself in the background (a function would
		# run in a subshell, and the kill miss the program)
		if [ -f "$T/ck/checkpoint.safetensors" ]; then
			unet-train "${ARGS[@]}" -o "$T/m.st" -r "$T/ck" &
		else
			unet-train "${ARGS[@]}" -o "$T/m.st" -C "$T/ck" &
		fi
		pid=$!
		# somewhere in the run: epochs, validation, writes, commits
		delay=$((RANDOM % ms))
		sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		kills=$((kills + 1))
		echo "# kill $kills at ${delay} ms of ${ms}" >&3
	done
	if [ -f "$T/ck/checkpoint.safetensors" ]; then
		train -o "$T/m.st" -r "$T/ck"
	else
		train -o "$T/m.st" -C "$T/ck"
	fi

	cmp "$T/ref.st" "$T/m.st"
	cmp "$T/ref/checkpoint.safetensors" "$T/ck/checkpoint.safetensors"
	no_temporaries "$T" "$T/ck"
	run sed 's/^{"epoch": \([0-9]*\),.*/\1/' "$T/ck/train.jsonl"
	echo "log: $(cut -c1-40 "$T/ck/train.jsonl")"
	[ "$output" = "$(seq 1 $EPOCHS)" ]
}
