#!/usr/bin/env bats
# This script tests: unet-train
# Also requires: tensor-info, tensor-diff, unet-infer, seg-eval

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml

train() {
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" "$@"
}

# same_number A B: A and B are the same number, however written (the log
# writes 0.5 where a "%.6f" writes 0.500000).
same_number() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 == b + 0) }'
}

@test "unet-train: trains, logs, and writes a model with its metadata" {
	run --separate-stderr unet-train -c "$C" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$BATS_TEST_TMPDIR/m.st" -e 3 -C "$BATS_TEST_TMPDIR/ck"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"7514 parameters, 16 train / 4 val tiles"* ]]
	[[ "$stderr" == *"epoch 3/3: loss"* ]]
	run wc -l <"$BATS_TEST_TMPDIR/ck/train.jsonl"
	[ "$output" -eq 3 ]
	run tensor-info -m "$BATS_TEST_TMPDIR/m.st"
	[[ "$output" == *"format=smearseg-unet"* ]]
	[[ "$output" == *"input.mean=["* ]]
	[[ "$output" == *'classes=[{"index":0,"name":"background"'* ]]
	[[ "$output" == *'training.history=[{"epoch": 1,'* ]]
	[[ "$output" == *"head.weight F32 10x4x1x1"* ]]
}

@test "unet-train: the log has one JSON object per epoch" {
	train -o "$BATS_TEST_TMPDIR/m.st" -e 2 -l "$BATS_TEST_TMPDIR/log.jsonl" \
	    -C "$BATS_TEST_TMPDIR/ck"
	py=$(numpy_python) || skip "no python3"
	run "$py" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len(rows), rows[-1]["epoch"], sorted(rows[0]))' "$BATS_TEST_TMPDIR/log.jsonl"
	[ "$output" = "2 2 ['epoch', 'lr', 'ranks', 'seconds', 'train_loss', 'train_tiles_per_s', 'val_loss', 'val_mean_iou', 'val_pixel_accuracy']" ]
	# the history of the last checkpoint is the log without the timing,
	# number for number
	tensor-info -m "$BATS_TEST_TMPDIR/ck/checkpoint.safetensors" |
	    sed -n 's/^training.history=//p' >"$BATS_TEST_TMPDIR/history.json"
	run "$py" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    for k in ("seconds", "train_tiles_per_s", "ranks"):
        del r[k]
print(json.load(open(sys.argv[2])) == rows)' "$BATS_TEST_TMPDIR/log.jsonl" "$BATS_TEST_TMPDIR/history.json"
	[ "$output" = "True" ]
}

@test "unet-train: --meta adds keys to the model, not the project's own" {
	train -o "$BATS_TEST_TMPDIR/m.st" -e 1 --meta 'dataset=make dataset SEED=7' --meta note=a=b
	run tensor-info -m "$BATS_TEST_TMPDIR/m.st"
	[[ "$output" == *"dataset=make dataset SEED=7"* ]]
	[[ "$output" == *"note=a=b"* ]]
	run --separate-stderr train -o "$BATS_TEST_TMPDIR/n.st" -e 1 --meta training.epochs=9
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"'training.epochs' is a key of the project's own"* ]]
	run --separate-stderr train -o "$BATS_TEST_TMPDIR/n.st" -e 1 --meta novalue
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"--meta wants KEY=VALUE, not 'novalue'"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/n.st" ]
}

@test "unet-train: --out holds the best epoch by validation mean IoU" {
	train -o "$BATS_TEST_TMPDIR/m.st" -e 4 -l "$BATS_TEST_TMPDIR/log.jsonl"
	best=$(sed 's/.*"epoch": \([0-9]*\).*"val_mean_iou": \([0-9.]*\).*/\2 \1/' \
	    "$BATS_TEST_TMPDIR/log.jsonl" | sort -k1,1 -s -n -r | head -1)
	run tensor-info -m "$BATS_TEST_TMPDIR/m.st"
	[[ "$output" == *"training.best_epoch=${best#* }"* ]]
	same_number "$(printf '%s\n' "$output" | sed -n 's/^training.best_val_mean_iou=//p')" "${best% *}"
	# and the model really scores that on the validation tiles
	unet-infer -m "$BATS_TEST_TMPDIR/m.st" "$F/val.pam" >"$BATS_TEST_TMPDIR/p.pgm"
	seg-eval "$F/val.pam" "$BATS_TEST_TMPDIR/p.pgm" >"$BATS_TEST_TMPDIR/eval.yaml"
	same_number "$(sed -n 's/^mean_iou: //p' "$BATS_TEST_TMPDIR/eval.yaml")" "${best% *}"
}

@test "unet-train: resume is exact (4 epochs = 2 + resume + 2)" {
	train -o "$BATS_TEST_TMPDIR/a.st" -e 4 -C "$BATS_TEST_TMPDIR/cka" -j 1
	train -o "$BATS_TEST_TMPDIR/b.st" -e 2 -C "$BATS_TEST_TMPDIR/ckb" -j 1
	train -o "$BATS_TEST_TMPDIR/b.st" -e 4 -r "$BATS_TEST_TMPDIR/ckb" -j 1
	cmp "$BATS_TEST_TMPDIR/a.st" "$BATS_TEST_TMPDIR/b.st"
	cmp "$BATS_TEST_TMPDIR/cka/checkpoint.safetensors" "$BATS_TEST_TMPDIR/ckb/checkpoint.safetensors"
}

@test "unet-train: the same seed gives the same model, another seed another" {
	train -o "$BATS_TEST_TMPDIR/a.st" -e 1 -s 5
	train -o "$BATS_TEST_TMPDIR/b.st" -e 1 -s 5
	train -o "$BATS_TEST_TMPDIR/c.st" -e 1 -s 6
	cmp "$BATS_TEST_TMPDIR/a.st" "$BATS_TEST_TMPDIR/b.st"
	run tensor-diff -q "$BATS_TEST_TMPDIR/a.st" "$BATS_TEST_TMPDIR/c.st"
	[ "$status" -eq 1 ]
}

@test "unet-train: --half writes F16 weights that unet-infer reads" {
	train -o "$BATS_TEST_TMPDIR/h.st" -e 2 --half
	run tensor-info "$BATS_TEST_TMPDIR/h.st"
	[[ "$output" == *"head.weight F16 10x4x1x1"* ]]
	run unet-infer -m "$BATS_TEST_TMPDIR/h.st" "$F/val.pam"
	[ "$status" -eq 0 ]
}

@test "unet-train: a NaN loss stops training and leaves the checkpoint alone" {
	train -o "$BATS_TEST_TMPDIR/m.st" -e 1 -C "$BATS_TEST_TMPDIR/ck"
	ck="$BATS_TEST_TMPDIR/ck/checkpoint.safetensors"
	# the last 4 bytes are the last element of head.bias: make it a NaN
	printf '\377\377\377\177' | dd of="$ck" bs=1 seek=$(($(stat -c %s "$ck") - 4)) \
	    conv=notrunc 2>/dev/null
	cp "$ck" "$BATS_TEST_TMPDIR/before.st"
	cp "$BATS_TEST_TMPDIR/m.st" "$BATS_TEST_TMPDIR/m-before.st"
	run --separate-stderr unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$BATS_TEST_TMPDIR/m.st" -e 3 -r "$BATS_TEST_TMPDIR/ck"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"the training loss is nan at epoch 2 step 1; stopped"*"the last good checkpoint is in"* ]]
	cmp "$ck" "$BATS_TEST_TMPDIR/before.st"
	cmp "$BATS_TEST_TMPDIR/m.st" "$BATS_TEST_TMPDIR/m-before.st"
	[ "$(ls -A "$BATS_TEST_TMPDIR/ck")" = "$(printf 'checkpoint.safetensors\ntrain.jsonl')" ]
}

@test "unet-train: tiles of the wrong size" {
	run --separate-stderr unet-train -c "$TOP/share/unet.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$BATS_TEST_TMPDIR/m.st"
	assert_fails_cleanly "train.pam: tile 1 is 32x32, the network takes 224x224"
	[ ! -e "$BATS_TEST_TMPDIR/m.st" ]
}

@test "unet-train: fewer tiles than a batch" {
	run --separate-stderr unet-train -c "$C" -t "$F/val.pam" -v "$F/val.pam" \
	    -o "$BATS_TEST_TMPDIR/m.st" -b 8
	assert_fails_cleanly "val.pam: 4 tiles, fewer than one global batch (8 x 1 ranks)"
}

@test "unet-train: an unknown config key names the file and line" {
	printf 'model:\n  input_size: 32\n  widthz: [4]\n' >"$BATS_TEST_TMPDIR/bad.yaml"
	run --separate-stderr unet-train -c "$BATS_TEST_TMPDIR/bad.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$BATS_TEST_TMPDIR/m.st"
	assert_fails_cleanly "bad.yaml:3: unknown key 'widthz'"
}

@test "unet-train: resume from a directory without a checkpoint" {
	run --separate-stderr unet-train -c "$C" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$BATS_TEST_TMPDIR/m.st" -r "$BATS_TEST_TMPDIR/none"
	assert_fails_cleanly "none/checkpoint.safetensors: No such file or directory"
}

@test "unet-train: a model file is not a checkpoint" {
	train -o "$BATS_TEST_TMPDIR/m.st" -e 1
	mkdir "$BATS_TEST_TMPDIR/ck"
	cp "$BATS_TEST_TMPDIR/m.st" "$BATS_TEST_TMPDIR/ck/checkpoint.safetensors"
	run --separate-stderr unet-train -c "$C" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$BATS_TEST_TMPDIR/m2.st" -r "$BATS_TEST_TMPDIR/ck"
	assert_fails_cleanly "not a checkpoint (optimizer or RNG state missing"
}

@test "unet-train: resume with another architecture names the key" {
	T=$BATS_TEST_TMPDIR
	train -o "$T/a.st" -e 1 -C "$T/ck"
	sed 's/^  widths: .*/  widths: [4, 16]/' "$C" >"$T/other.yaml"
	run --separate-stderr unet-train -q -c "$T/other.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/a.st" -e 2 -r "$T/ck"
	assert_fails_cleanly "ck/checkpoint.safetensors: its model differs from the one in"
	[[ "$stderr" == *"other.yaml (widths: [4, 8] against [4, 16])" ]]
}

@test "unet-train: missing required options" {
	run --separate-stderr unet-train -c "$C"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "unet-train: --config, --train, --val and --out are required" ]
}

@test "unet-train: --init starts from a model's weights and normalisation" {
	T=$BATS_TEST_TMPDIR
	train -o "$T/a.st" -e 2
	# a learning rate too small to move the weights: the model stays A's
	sed 's/^  lr: .*/  lr: 1.0e-9\n  min_lr: 1.0e-9/' "$C" >"$T/slow.yaml"
	unet-train -q -c "$T/slow.yaml" -t "$F/val.pam" -v "$F/val.pam" -b 2 \
	    -o "$T/b.st" -e 1 -i "$T/a.st"
	tensor-diff -n -r 1e-6 "$T/a.st" "$T/b.st"
	unet-train -q -c "$T/slow.yaml" -t "$F/val.pam" -v "$F/val.pam" -b 2 \
	    -o "$T/c.st" -e 1
	run tensor-diff -n -r 1e-6 "$T/a.st" "$T/c.st"
	[ "$status" -ne 0 ]
	# the input normalisation is A's, not that of the (other) tiles
	[ "$(tensor-info -m "$T/a.st" | grep '^input.mean=')" = \
	    "$(tensor-info -m "$T/b.st" | grep '^input.mean=')" ]
	[ "$(tensor-info -m "$T/a.st" | grep '^input.mean=')" != \
	    "$(tensor-info -m "$T/c.st" | grep '^input.mean=')" ]
}

@test "unet-train: --init refuses another architecture, and --resume" {
	T=$BATS_TEST_TMPDIR
	train -o "$T/a.st" -e 1
	sed 's/^  bottleneck: .*/  bottleneck: 8/' "$C" >"$T/other.yaml"
	run --separate-stderr unet-train -q -c "$T/other.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/b.st" -i "$T/a.st"
	assert_fails_cleanly "a.st: its architecture differs from the model: section of"
	[[ "$stderr" == *"other.yaml (bottleneck: 16 against 8)" ]]
	[ ! -e "$T/b.st" ]
	run --separate-stderr train -o "$T/b.st" -r "$T" -i "$T/a.st"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"--resume and --init cannot be used together"* ]]
	run --separate-stderr train -o "$T/b.st" -i "$T/none.st"
	assert_fails_cleanly "none.st"
}

@test "unet-train: the optics augmentation keys train and are range-checked" {
	T=$BATS_TEST_TMPDIR
	{ cat "$C"; printf 'augment:\n  hue_jitter: 10\n  saturation_jitter: 0.3\n  gamma_jitter: 0.25\n  blur: 1.2\n  noise: 4\n'; } >"$T/aug.yaml"
	unet-train -q -c "$T/aug.yaml" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$T/a.st" -e 1
	train -o "$T/b.st" -e 1
	# the same seed, other input: another model
	run tensor-diff -n -r 1e-6 "$T/a.st" "$T/b.st"
	[ "$status" -ne 0 ]
	{ cat "$C"; printf 'augment:\n  hue_jitter: 120\n'; } >"$T/bad.yaml"
	run --separate-stderr unet-train -c "$T/bad.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "hue_jitter"
}

@test "unet-train: hue_any turns a share of the tiles by any hue, range-checked" {
	T=$BATS_TEST_TMPDIR
	{ cat "$C"; printf 'augment:\n  hue_jitter: 10\n'; } >"$T/h.yaml"
	{ cat "$C"; printf 'augment:\n  hue_jitter: 10\n  hue_any: 0.5\n'; } >"$T/any.yaml"
	unet-train -q -c "$T/h.yaml" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$T/a.st" -e 1
	unet-train -q -c "$T/any.yaml" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$T/b.st" -e 1
	run tensor-diff -n -r 1e-6 "$T/a.st" "$T/b.st"
	[ "$status" -ne 0 ]
	{ cat "$C"; printf 'augment:\n  hue_any: 1.5\n'; } >"$T/bad.yaml"
	run --separate-stderr unet-train -c "$T/bad.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "hue_any"
}

@test "unet-train: hed_jitter changes the dye amounts of the tiles, range-checked" {
	T=$BATS_TEST_TMPDIR
	{ cat "$C"; printf 'augment:\n  hed_jitter: 0.05\n'; } >"$T/hed.yaml"
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -o "$T/a.st" -e 1
	unet-train -q -c "$T/hed.yaml" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$T/b.st" -e 1
	run tensor-diff -n -r 1e-6 "$T/a.st" "$T/b.st"
	[ "$status" -ne 0 ]
	{ cat "$C"; printf 'augment:\n  hed_jitter: 0.8\n'; } >"$T/bad.yaml"
	run --separate-stderr unet-train -c "$T/bad.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "hed_jitter"
}

# relabel FROM TO < tiles > tiles: the label plane's values FROM (a
# comma list) become TO.
relabel() {
	perl -e 'binmode STDIN; binmode STDOUT; local $/; my $s = <STDIN>;
	my %from = map { $_ => 1 } split /,/, $ARGV[0]; my $to = chr $ARGV[1];
	while ($s =~ /\G(P7\n.*?ENDHDR\n)/gcs) {
		my $h = $1; print $h;
		my ($w) = $h =~ /WIDTH (\d+)/; my ($ht) = $h =~ /HEIGHT (\d+)/;
		my $px = substr $s, pos($s), 4 * $w * $ht;
		pos($s) += 4 * $w * $ht;
		for (my $i = 3; $i < length $px; $i += 4) {
			substr($px, $i, 1) = $to if $from{ord substr $px, $i, 1};
		}
		print $px;
	}' "$@"
}

@test "unet-train: a partial label trains toward its members, unlike ignore" {
	T=$BATS_TEST_TMPDIR
	# every white cell of the training tiles as "White cell" (254), or
	# as ignore (255)
	relabel 1,2,3,4,5 254 <"$F/train.pam" >"$T/part.pam"
	relabel 1,2,3,4,5 255 <"$F/train.pam" >"$T/ign.pam"
	[ "$(cksum <"$T/part.pam")" != "$(cksum <"$F/train.pam")" ]
	unet-train -q -c "$C" -t "$T/part.pam" -v "$F/val.pam" -o "$T/p.st" -e 4
	unet-train -q -c "$C" -t "$T/ign.pam" -v "$F/val.pam" -o "$T/i.st" -e 4
	run tensor-diff -n -r 1e-6 "$T/p.st" "$T/i.st"
	[ "$status" -ne 0 ]
	# on the white cells, the model trained with the partial label gives
	# the five white-cell classes more probability than the one trained
	# without them (0.36-0.53 against 0.07-0.25 over seeds 1-4)
	py=$(numpy_python) || skip "no numpy"
	pamchannel -tupletype RGB 0 1 2 <"$F/train.pam" >"$T/x.ppm"
	wbc_share() {
		unet-infer -q -m "$1" -p "$T/$2.npy" "$T/x.ppm" >/dev/null
		"$py" -c 'import re, sys, numpy as np
d = open(sys.argv[2], "rb").read(); pos = 0; lab = []
while pos < len(d):
    e = d.index(b"ENDHDR\n", pos) + 7; h = d[pos:e].decode()
    n = int(re.search("WIDTH (\\d+)", h)[1]) * int(re.search("HEIGHT (\\d+)", h)[1])
    lab.append(np.frombuffer(d, np.uint8, 4 * n, e)[3::4]); pos = e + 4 * n
p = np.load(sys.argv[1]); lab = np.concatenate(lab).reshape(p.shape[:-1])
print(p[..., 1:6].sum(-1)[(lab >= 1) & (lab <= 5)].mean())' "$T/$2.npy" "$F/train.pam"
	}
	a=$(wbc_share "$T/p.st" p); b=$(wbc_share "$T/i.st" i)
	awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > b + 0.05) }'
	# a label value that is neither a class, a partial label nor ignore
	relabel 1 250 <"$F/train.pam" >"$T/bad.pam"
	run --separate-stderr unet-train -q -c "$C" -t "$T/bad.pam" \
	    -v "$F/val.pam" -o "$T/b.st" -e 1
	assert_fails_cleanly "bad.pam: image 1: label value 250"
	[ ! -e "$T/b.st" ]
}

@test "unet-train: its validation scores are seg-eval's on unet-infer's maps" {
	T=$BATS_TEST_TMPDIR
	train -o "$T/m.st" -e 3 -l "$T/log.jsonl"
	best=$(tensor-info -m "$T/m.st" | sed -n 's/^training.best_epoch=//p')
	rec=$(sed -n "${best}p" "$T/log.jsonl")
	pamchannel -tupletype RGB 0 1 2 <"$F/val.pam" >"$T/v.ppm"
	unet-infer -q -m "$T/m.st" "$T/v.ppm" >"$T/v.pgm"
	seg-eval "$F/val.pam" "$T/v.pgm" >"$T/eval.yaml"
	miou=$(sed -n 's/^mean_iou: //p' "$T/eval.yaml")
	acc=$(sed -n 's/^pixel_accuracy: //p' "$T/eval.yaml")
	same_number "$(echo "$rec" | sed 's/.*"val_mean_iou": \([0-9.]*\).*/\1/')" "$miou"
	same_number "$(echo "$rec" | sed 's/.*"val_pixel_accuracy": \([0-9.]*\).*/\1/')" "$acc"
	# and not a constant: the scores move between epochs
	[ "$(sed 's/.*"val_mean_iou": \([0-9.]*\).*/\1/' "$T/log.jsonl" | sort -u | wc -l)" -gt 1 ]
}

@test "unet-train: resume from a checkpoint whose history is empty text" {
	T=$BATS_TEST_TMPDIR
	train -o "$T/a.st" -e 1 -C "$T/ck"
	st_edit "$T/ck/checkpoint.safetensors" 's/"training\.history":"([^"\\]|\\.)*"/"training.history":""/'
	run tensor-info -m "$T/ck/checkpoint.safetensors"
	[[ "$output" == *$'\ntraining.history=\n'* ]]
	run --separate-stderr train -o "$T/a.st" -e 2 -r "$T/ck"
	assert_fails_cleanly "ck/checkpoint.safetensors: metadata 'training.history' is not a JSON array"
	no_temporaries "$T" "$T/ck"
}

@test "unet-train: in_channels other than 3 is refused, in a config and in a model" {
	T=$BATS_TEST_TMPDIR
	for n in 1 8 64; do
		sed "s/^  in_channels: 3/  in_channels: $n/" "$C" >"$T/c$n.yaml"
		run --separate-stderr unet-train -q -c "$T/c$n.yaml" -t "$F/train.pam" \
		    -v "$F/val.pam" -o "$T/m.st" -e 1
		assert_fails_cleanly "c$n.yaml:6: in_channels: $n is not supported (the input is an RGB picture: 3)"
		[ ! -e "$T/m.st" ]
	done
	train -o "$T/m.st" -e 1
	st_edit "$T/m.st" 's/in_channels: 3/in_channels: 8/'
	run --separate-stderr unet-infer -m "$T/m.st" "$F/val.pam"
	assert_fails_cleanly "m.st:4: in_channels: 8 is not supported"
}

@test "unet-train: --out onto a device node is refused; the node stays" {
	T=$BATS_TEST_TMPDIR
	mknod "$T/null" c 1 3 2>/dev/null || skip "cannot make a device node (not root)"
	run --separate-stderr train -o "$T/null" -e 1
	assert_fails_cleanly "$T/null: a character device (expected a regular file"
	[ -c "$T/null" ]
	no_temporaries "$T"
}

# deep N: a config whose model: is a flow mapping nested N deep.
deep() {
	printf 'model: '
	yes '{a: ' | head -n "$1" | tr -d '\n'
	printf 1
	yes '}' | head -n "$1" | tr -d '\n'
	echo
}

@test "unet-train: a config nested 100000 deep fails at once" {
	T=$BATS_TEST_TMPDIR
	deep 100000 >"$T/deep.yaml"
	run --separate-stderr timeout 10 unet-train -c "$T/deep.yaml" -t "$F/train.pam" \
	    -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "unet-train: $T/deep.yaml:1: nested deeper than 64 levels"
	# and in a model's unet.config, the same limit
	train -o "$T/m.st" -e 1
	st_edit "$T/m.st" "s/\"unet.config\":\"model:/\"unet.config\":\"model: $(deep 1000 | cut -c8- | tr -d '\n')\\\\nx:/"
	run --separate-stderr timeout 10 unet-infer -m "$T/m.st" "$F/val.pam"
	assert_fails_cleanly "unet-infer: $T/m.st:1: nested deeper than 64 levels"
}

@test "unet-train: a config with a NUL byte, a repeated key or section, a second document" {
	T=$BATS_TEST_TMPDIR
	{ sed -n 1,9p "$C"; printf '\0'; sed -n '10,$p' "$C"; } >"$T/nul.yaml"
	run --separate-stderr unet-train -c "$T/nul.yaml" -t "$F/train.pam" -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "unet-train: $T/nul.yaml:10: a NUL byte (expected YAML text)"
	{ cat "$C"; printf '  seed: 2\n'; } >"$T/dup.yaml"
	run --separate-stderr unet-train -c "$T/dup.yaml" -t "$F/train.pam" -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "unet-train: $T/dup.yaml:24: key 'seed' repeated (first at line 23)"
	{ cat "$C"; printf 'model:\n  classes: 9\n'; } >"$T/sec.yaml"
	run --separate-stderr unet-train -c "$T/sec.yaml" -t "$F/train.pam" -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "unet-train: $T/sec.yaml:24: key 'model' repeated (first at line 4)"
	{ cat "$C"; printf -- '---\nmodel:\n  classes: 9\n'; } >"$T/doc.yaml"
	run --separate-stderr unet-train -c "$T/doc.yaml" -t "$F/train.pam" -v "$F/val.pam" -o "$T/m.st"
	assert_fails_cleanly "unet-train: $T/doc.yaml:24: a second YAML document (expected one)"
	[ ! -e "$T/m.st" ]
}

@test "unet-train: bad --meta and output names are refused before any training" {
	T=$BATS_TEST_TMPDIR
	long=$(head -c 2000 /dev/zero | tr '\0' k)
	for m in "$(printf 'k\377=v')" "$(printf 'key=\377')" "$long=v"; do
		run --separate-stderr unet-train -c "$C" -t "$F/train.pam" -v "$F/val.pam" \
		    -o "$T/m.st" -e 1 -C "$T/ck" --meta "$m"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[[ "${stderr_lines[0]}" == "unet-train: --meta: "* ]]
		[[ "$stderr" != *"epoch 1/1"* ]]
		[ ! -e "$T/ck" ] && [ ! -e "$T/m.st" ]
	done
	[[ "${stderr_lines[0]}" == *"kkkk...': the key is 2002 bytes long as JSON, more than 1000" ]]
	run --separate-stderr unet-train -c "$C" -t "$F/train.pam" -v "$F/val.pam" \
	    -o "$T/m.st" -e 1 -C "$T/ck" --meta "$(printf 'key=\377')"
	[[ "${stderr_lines[0]}" == "unet-train: --meta: 'key': the value is not valid UTF-8" ]]
	run --separate-stderr train -o '' -e 1 -C "$T/ck"
	assert_fails_cleanly "unet-train: '': not a file name"
	run --separate-stderr train -o "$T/" -e 1 -C "$T/ck"
	assert_fails_cleanly "unet-train: '$T/': not a file name"
	[ ! -e "$T/ck" ]
}

@test "unet-train: resume after a kill cleans temporaries and logs each epoch once" {
	T=$BATS_TEST_TMPDIR
	train -o "$T/a.st" -e 4 -C "$T/cka"
	train -o "$T/b.st" -e 2 -C "$T/ckb"
	# what kill -9 leaves after epoch 3 is logged, before its checkpoint
	# is committed: temporaries, a record the checkpoint lacks, and a
	# line cut short
	sed -n 2p "$T/ckb/train.jsonl" | sed 's/"epoch": 2/"epoch": 3/' >>"$T/ckb/train.jsonl"
	printf '{"epoch": 4, "lr"' >>"$T/ckb/train.jsonl"
	echo partial >"$T/ckb/.checkpoint.safetensors.tmpAb12Cd"
	echo partial >"$T/.b.st.tmpXy34Zw"
	train -o "$T/b.st" -e 4 -r "$T/ckb"
	cmp "$T/a.st" "$T/b.st"
	cmp "$T/cka/checkpoint.safetensors" "$T/ckb/checkpoint.safetensors"
	no_temporaries "$T" "$T/ckb"
	run sed 's/^{"epoch": \([0-9]*\),.*/\1/' "$T/ckb/train.jsonl"
	[ "$output" = "$(printf '1\n2\n3\n4')" ]
}
