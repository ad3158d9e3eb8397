#!/usr/bin/env bats
# This script tests: unet-infer
# Also requires: unet-train, seg-eval, netpbm (pamchannel, pamsplit, pnmcat)

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml

setup_file() {
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -e 3 \
	    -o "$BATS_FILE_TMPDIR/m.st"
	# a second model, for the ensembles: another run of the same recipe
	unet-train -q -c "$C" -t "$F/train.pam" -v "$F/val.pam" -e 2 \
	    -o "$BATS_FILE_TMPDIR/m2.st"
}

M() { echo "$BATS_FILE_TMPDIR/m.st"; }
M2() { echo "$BATS_FILE_TMPDIR/m2.st"; }
# floats NPY N: the last N float32 values of a .npy file, one per line
floats() { tail -c $((4 * $2)) "$1" | od -An -v -t f4 -w4; }

@test "unet-infer: one PGM class map per tile" {
	run --separate-stderr bash -c "unet-infer -m '$(M)' '$F/val.pam' | pamfile -count"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4 images"* ]]
	unet-infer -m "$(M)" "$F/val.pam" | pamfile | grep -q "PGM raw, 32 by 32"
}

@test "unet-infer: PPM pictures give the same maps as their tiles" {
	unet-infer -m "$(M)" "$F/val.pam" >"$BATS_TEST_TMPDIR/a.pgm"
	cd "$BATS_TEST_TMPDIR" && pamsplit "$F/val.pam" t%d.pam 2>/dev/null
	for i in 0 1 2 3; do pamchannel -tupletype RGB 0 1 2 <t$i.pam | pamtopnm; done >v.ppm
	unet-infer -m "$(M)" v.ppm | cmp - a.pgm
}

@test "unet-infer: SMEARSEG_PROFILE times each op on stderr and changes no map" {
	unet-infer -m "$(M)" "$F/val.pam" >"$BATS_TEST_TMPDIR/a.pgm"
	SMEARSEG_PROFILE=1 unet-infer -q -m "$(M)" "$F/val.pam" \
	    >"$BATS_TEST_TMPDIR/b.pgm" 2>"$BATS_TEST_TMPDIR/err"
	cmp "$BATS_TEST_TMPDIR/a.pgm" "$BATS_TEST_TMPDIR/b.pgm"
	head -1 "$BATS_TEST_TMPDIR/err" | grep -q "^profile: cpu .* s in [0-9]* kinds of op$"
	grep -q "^profile: .* calls  conv3x3 [a-z]* 32x32 3->" "$BATS_TEST_TMPDIR/err"
	grep -q "^profile: .* calls  softmax$" "$BATS_TEST_TMPDIR/err"
	# the shares add up to 100 %
	grep "^profile: .*%" "$BATS_TEST_TMPDIR/err" | awk '{ s += $2 } END { exit !(s > 99.5 && s < 100.5) }'
	# without it, nothing is printed
	run --separate-stderr unet-infer -q -m "$(M)" "$F/val.pam"
	[ -z "$stderr" ]
}

@test "unet-infer: batch size does not change the maps" {
	unet-infer -m "$(M)" -b 1 "$F/val.pam" >"$BATS_TEST_TMPDIR/a.pgm"
	unet-infer -m "$(M)" -b 3 "$F/val.pam" | cmp - "$BATS_TEST_TMPDIR/a.pgm"
}

@test "unet-infer: --probs writes softmax probabilities that NumPy loads" {
	unet-infer -m "$(M)" -p "$BATS_TEST_TMPDIR/p.npy" "$F/val.pam" >"$BATS_TEST_TMPDIR/a.pgm"
	run tensor-info "$BATS_TEST_TMPDIR/p.npy"
	[[ "$output" == *"F32 4x32x32x10"* ]]
	py=$(numpy_python) || skip "no python3 with numpy"
	run "$py" -c 'import numpy as np, sys
p = np.load(sys.argv[1]); s = p.sum(-1)
print(p.dtype, abs(s - 1).max() < 1e-5, (p >= 0).all())' "$BATS_TEST_TMPDIR/p.npy"
	[ "$output" = "float32 True True" ]
}

@test "unet-infer: the map is the argmax of the probabilities" {
	py=$(numpy_python) || skip "no python3 with numpy"
	unet-infer -m "$(M)" -b 4 -p "$BATS_TEST_TMPDIR/p.npy" "$F/val.pam" | pamsplit - "$BATS_TEST_TMPDIR/m%d.pgm" 2>/dev/null
	run "$py" -c 'import numpy as np, sys
p = np.load(sys.argv[1]); ok = True
for i in range(p.shape[0]):
    raw = open(sys.argv[2] % i, "rb").read()[-32 * 32:]
    m = np.frombuffer(raw, np.uint8).reshape(32, 32)
    ok &= bool((p[i].argmax(-1) == m).all())
print(ok)' "$BATS_TEST_TMPDIR/p.npy" "$BATS_TEST_TMPDIR/m%d.pgm"
	[ "$output" = "True" ]
}

@test "unet-infer: a large image is tiled; with no overlap it equals its tiles" {
	cd "$BATS_TEST_TMPDIR" && pamsplit "$F/val.pam" t%d.pam 2>/dev/null
	for i in 0 1; do pamchannel -tupletype RGB 0 1 2 <t$i.pam | pamtopnm >p$i.ppm; done
	pnmcat -lr p0.ppm p1.ppm >wide.ppm
	unet-infer -m "$(M)" -O 0 wide.ppm >wide.pgm
	run pamfile wide.pgm
	[[ "$output" == *"PGM raw, 64 by 32"* ]]
	unet-infer -m "$(M)" p0.ppm >m0.pgm
	unet-infer -m "$(M)" p1.ppm >m1.pgm
	pnmcat -lr m0.pgm m1.pgm | cmp - wide.pgm
}

@test "unet-infer: odd sizes, smaller than a window and with overlap" {
	cd "$BATS_TEST_TMPDIR" && pamsplit "$F/val.pam" t%d.pam 2>/dev/null
	pamchannel -tupletype RGB 0 1 2 <t0.pam | pamtopnm | pamcut -width 20 -height 13 >small.ppm
	run unet-infer -m "$(M)" small.ppm
	[ "$status" -eq 0 ]
	unet-infer -m "$(M)" small.ppm | pamfile | grep -q "20 by 13"
	pamchannel -tupletype RGB 0 1 2 <t0.pam | pamtopnm >p0.ppm
	pnmcat -tb p0.ppm p0.ppm p0.ppm | pnmcat -lr - p0.ppm >odd.ppm
	unet-infer -m "$(M)" -O 7 odd.ppm | pamfile | grep -q "64 by 96"
}

@test "unet-infer: --tta is the mean over the 8 symmetries, so it commutes with them" {
	py=$(numpy_python) || skip "no python3 with numpy"
	cd "$BATS_TEST_TMPDIR"
	pamchannel -tupletype RGB 0 1 2 <"$F/val.pam" >v.pam
	# each tile mirrored, and each turned a quarter (pamflip on a stream
	# takes its first image only)
	pamsplit v.pam t%d.pam 2>/dev/null
	for i in 0 1 2 3; do pamflip -lr t$i.pam; done >lr.pam
	for i in 0 1 2 3; do pamflip -r90 t$i.pam; done >r90.pam
	for f in v lr r90; do
		unet-infer -q -t -m "$(M)" -p $f.t.npy $f.pam >$f.t.pgm
		unet-infer -q -m "$(M)" -p $f.npy $f.pam >/dev/null
	done
	run "$py" -c 'import numpy as np
v, lr, r90 = (np.load(f + ".t.npy") for f in ("v", "lr", "r90"))
# pamflip -r90 turns counter-clockwise; back: a clockwise turn
back = (lr[:, :, ::-1], np.rot90(r90, -1, axes=(1, 2)))
d_tta = max(np.abs(b - v).max() for b in back)
p, plr = np.load("v.npy"), np.load("lr.npy")
d_one = np.abs(plr[:, :, ::-1] - p).max()
print(d_tta < 1e-5, d_one > 1e-3, np.allclose(v.sum(-1), 1, atol=1e-5))'
	[ "$status" -eq 0 ]
	[ "$output" = "True True True" ]
	# and a whole image larger than a window, with overlap
	pnmcat -lr t0.pam t1.pam t2.pam >big.ppm
	unet-infer -q -t -O 8 -m "$(M)" big.ppm | pamfile | grep -q "PGM raw, 96 by 32"
}

@test "unet-infer: several -m average the models' probabilities (an ensemble)" {
	cd "$BATS_TEST_TMPDIR"
	n=$((4 * 32 * 32 * 10))
	unet-infer -q -m "$(M)" -p a.npy "$F/val.pam" >a.pgm
	unet-infer -q -m "$(M2)" -p b.npy "$F/val.pam" >b.pgm
	unet-infer -q -m "$(M)" -m "$(M2)" -p e.npy "$F/val.pam" >e.pgm
	unet-infer -q -m "$(M2)" -m "$(M)" -p r.npy "$F/val.pam" >r.pgm
	[ "$(floats a.npy $n | wc -l)" -eq "$n" ]
	# every probability the mean of the two models', in either order;
	# and the two models do differ
	floats a.npy $n >a.txt
	floats b.npy $n >b.txt
	floats e.npy $n >e.txt
	floats r.npy $n >r.txt
	paste a.txt b.txt e.txt r.txt | awk '
	BEGIN { e = o = ab = 0 }
	{ m = ($1 + $2) / 2; d = $3 - m; if (d < 0) d = -d; if (d > e) e = d
	  d = $4 - $3; if (d < 0) d = -d; if (d > o) o = d
	  d = $1 - $2; if (d < 0) d = -d; if (d > ab) ab = d }
	END { printf "%d %d %d\n", (e < 1e-6), (o < 1e-6), (ab > 1e-3) }' >check
	[ "$(cat check)" = "1 1 1" ]
	cmp e.pgm r.pgm
	# a model twice is that model
	unet-infer -q -m "$(M)" -m "$(M)" -p aa.npy "$F/val.pam" | cmp - a.pgm
	cmp aa.npy a.npy
}

@test "unet-infer: an ensemble needs one window size" {
	# the same model, its window said to be 16 (a fully convolutional
	# network runs at any size; the window is the model's own)
	sed 's/input_size: 32/input_size: 16/' "$(M2)" >"$BATS_TEST_TMPDIR/s.st"
	unet-infer -q -m "$BATS_TEST_TMPDIR/s.st" "$F/val.pam" | pamfile | grep -q "PGM raw, 32 by 32"
	run --separate-stderr unet-infer -m "$(M)" -m "$BATS_TEST_TMPDIR/s.st" "$F/val.pam"
	assert_fails_cleanly "s.st: the model's input is 16x16, $(M)'s 32x32: an ensemble needs one window size"
	# and at most 16 models
	args=
	for i in $(seq 17); do args="$args -m $(M)"; done
	run --separate-stderr unet-infer $args "$F/val.pam"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"-m: at most 16 models"* ]]
}

@test "unet-infer: --probs needs images of one size" {
	cd "$BATS_TEST_TMPDIR" && pamsplit "$F/val.pam" t%d.pam 2>/dev/null
	pamchannel -tupletype RGB 0 1 2 <t0.pam | pamtopnm >p0.ppm
	{ cat p0.ppm; pamcut -width 16 p0.ppm; } >two.ppm
	run --separate-stderr unet-infer -m "$(M)" -p p.npy two.ppm
	assert_fails_cleanly "two.ppm: image 2 is 16x32, image 1 32x32: --probs needs one size"
	[ ! -e p.npy ]
}

@test "unet-infer: a corrupt or truncated model" {
	head -c 1000 "$(M)" >"$BATS_TEST_TMPDIR/t.st"
	run --separate-stderr unet-infer -m "$BATS_TEST_TMPDIR/t.st" "$F/val.pam"
	assert_fails_cleanly "t.st:"
	echo "not a model" >"$BATS_TEST_TMPDIR/x.st"
	run --separate-stderr unet-infer -m "$BATS_TEST_TMPDIR/x.st" "$F/val.pam"
	assert_fails_cleanly "x.st:"
}

@test "unet-infer: a model of the wrong shape" {
	unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$F/train.pam" -v "$F/val.pam" -e 1 \
	    -o "$BATS_TEST_TMPDIR/m.st"
	# swap in a config with other widths: the tensors no longer fit
	run --separate-stderr bash -c "tensor-info -m '$BATS_TEST_TMPDIR/m.st' | grep -c 'widths: \\[4, 8\\]'"
	[ "$output" = 1 ]
	sed 's/widths: \[4, 8\]/widths: [4, 9]/' "$BATS_TEST_TMPDIR/m.st" >"$BATS_TEST_TMPDIR/w.st"
	run --separate-stderr unet-infer -m "$BATS_TEST_TMPDIR/w.st" "$F/val.pam"
	assert_fails_cleanly "w.st: tensor 'enc1.conv0.weight' is not F32 or F16 of shape"
}

@test "unet-infer: the model's class table is compared with classes.yaml as JSON" {
	# the same table with its keys in another order loads; a renamed
	# class is refused, naming it
	sed 's/{\\"index\\":0,\\"name\\":\\"background\\",/{\\"name\\":\\"background\\",\\"index\\":0,/' \
	    "$(M)" >"$BATS_TEST_TMPDIR/k.st"
	! cmp -s "$(M)" "$BATS_TEST_TMPDIR/k.st"
	unet-infer -m "$(M)" "$F/val.pam" >"$BATS_TEST_TMPDIR/a.pgm"
	unet-infer -m "$BATS_TEST_TMPDIR/k.st" "$F/val.pam" >"$BATS_TEST_TMPDIR/b.pgm"
	cmp "$BATS_TEST_TMPDIR/a.pgm" "$BATS_TEST_TMPDIR/b.pgm"
	sed 's/\\"Neutrophil\\"/\\"Neutrophix\\"/' "$(M)" >"$BATS_TEST_TMPDIR/n.st"
	run --separate-stderr unet-infer -m "$BATS_TEST_TMPDIR/n.st" "$F/val.pam"
	assert_fails_cleanly "n.st: the model's class table differs from classes.yaml (class 3: 'Neutrophix' #fbbebe against 'Neutrophil' #fbbebe)"
}

@test "unet-infer: not a smearseg model" {
	printf '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' >"$BATS_TEST_TMPDIR/h"
	n=$(stat -c %s "$BATS_TEST_TMPDIR/h")
	{ printf "$(printf '\\x%02x' $n)\0\0\0\0\0\0\0"; cat "$BATS_TEST_TMPDIR/h"; printf '\0\0\0\0'; } >"$BATS_TEST_TMPDIR/o.st"
	run --separate-stderr unet-infer -m "$BATS_TEST_TMPDIR/o.st" "$F/val.pam"
	assert_fails_cleanly "o.st: not a smearseg model (metadata 'format' is missing)"
}

@test "unet-infer: without -m, the shipped default model" {
	unet-infer -q -m "$TOP/share/models/default.safetensors" "$F/val.pam" >"$BATS_TEST_TMPDIR/a.pgm"
	(cd "$BATS_TEST_TMPDIR" && unet-infer -q "$F/val.pam") | cmp - "$BATS_TEST_TMPDIR/a.pgm"
}

@test "unet-infer: a share directory without the default model" {
	mkdir "$BATS_TEST_TMPDIR/share"
	cp "$TOP/share/classes.yaml" "$BATS_TEST_TMPDIR/share/"
	SMEARSEG_SHARE="$BATS_TEST_TMPDIR/share" run --separate-stderr unet-infer "$F/val.pam"
	assert_fails_cleanly "unet-infer: $BATS_TEST_TMPDIR/share/models/default.safetensors: No such file or directory"
}

@test "unet-infer: --probs onto a FIFO is refused; the FIFO stays" {
	T=$BATS_TEST_TMPDIR
	mkfifo "$T/p.fifo"
	run --separate-stderr unet-infer -m "$(M)" -p "$T/p.fifo" "$F/val.pam"
	assert_fails_cleanly "unet-infer: $T/p.fifo: a FIFO (expected a regular file or a new name: it would be replaced, not written)"
	[ -p "$T/p.fifo" ]
	no_temporaries "$T"
}

@test "unet-infer: --probs through a symbolic link writes its target; the link stays" {
	T=$BATS_TEST_TMPDIR
	mkdir "$T/d"
	echo old >"$T/d/target.npy"
	ln -s d/target.npy "$T/link.npy"
	unet-infer -m "$(M)" -p "$T/link.npy" "$F/val.pam" >/dev/null
	[ -L "$T/link.npy" ]
	run tensor-info "$T/d/target.npy"
	[[ "$output" == *"F32 4x32x32x10"* ]]
	no_temporaries "$T" "$T/d"
	ln -s nowhere.npy "$T/dangling.npy"
	run --separate-stderr unet-infer -m "$(M)" -p "$T/dangling.npy" "$F/val.pam"
	assert_fails_cleanly "dangling.npy: a symbolic link that leads nowhere"
	[ -L "$T/dangling.npy" ]
}

@test "unet-infer: --probs onto a device node or a directory is refused" {
	T=$BATS_TEST_TMPDIR
	mkdir "$T/dir.npy"
	run --separate-stderr unet-infer -m "$(M)" -p "$T/dir.npy" "$F/val.pam"
	assert_fails_cleanly "dir.npy: a directory (expected a regular file"
	mknod "$T/null" c 1 3 2>/dev/null || skip "cannot make a device node (not root)"
	run --separate-stderr unet-infer -m "$(M)" -p "$T/null" "$F/val.pam"
	assert_fails_cleanly "$T/null: a character device (expected a regular file"
	[ -c "$T/null" ]
}

@test "unet-infer: when stdout fails, no --probs file is left" {
	T=$BATS_TEST_TMPDIR
	[ -w /dev/full ] || skip "no /dev/full"
	run --separate-stderr sh -c 'unet-infer -m "$1" -p "$2" "$3" >/dev/full' sh \
	    "$(M)" "$T/p.npy" "$F/val.pam"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "unet-infer: <stdout>: write error: No space left on device" ]]
	[ ! -e "$T/p.npy" ]
	no_temporaries "$T"
	run --separate-stderr unet-infer -m "$(M)" -p - "$F/val.pam"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"--probs needs a file name"* ]]
}
