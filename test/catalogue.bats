#!/usr/bin/env bats
# This script tests: every program on bad input (a catalogue): one line on
#   stderr naming the file and the problem, a non-zero exit, nothing on
#   stdout, and no file left behind, output or temporary
# Also requires: netpbm (ppmmake, pgmmake)

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/unet
C=$TOP/share/unet-tiny.yaml

# The inputs, made afresh in a directory of each test's own (bats keeps
# its files in the test's scratch directory).
setup() {
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
	: >empty
	echo hello >garbage.txt
	printf 'P6\n4 4\n255\n0123456789' >trunc.ppm
	ppmmake red 32 32 >rgb.ppm
	pgmmake 0 32 32 >zero32.pgm
	pgmmake 0 16 16 >small.pgm
	pgmmake 0.5 32 32 >gray.pgm
	printf 'P5\n2 2\n255\n\310\0\0\0' >notclass.pgm
	printf 'P7\nWIDTH 2\nHEIGHT 2\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n' >trunc.pam
	printf 'P7\nWIDTH 32\nHEIGHT 32\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_LABEL\nENDHDR\n' >trunctile.pam
	head -c 100 /dev/zero >>trunctile.pam
	printf '\010\0\0\0\0\0\0\0{"a":1}\n' >badhdr.st
	printf '\223NUMPY\001\000\010\000{bad}  \n' >bad.npy
	cp "$F/val.pam" tiles.pam
	echo '{"tile": 1, "objects": [' >tiles.jsonl
}

# bad WANT CMD...: CMD fails cleanly (assert_fails_cleanly WANT) and the
# directory holds afterwards just what it held before: no output file, no
# temporary.
bad() {
	local want=$1 before after
	shift
	before=$(ls -A)
	run --separate-stderr "$@"
	assert_fails_cleanly "$want"
	after=$(ls -A)
	if [ "$after" != "$before" ]; then
		echo "files left behind: $(comm -13 <(echo "$before") <(echo "$after"))" >&2
		return 1
	fi
}

# --- cell-count --------------------------------------------------------------

@test "catalogue: cell-count, an empty file" {
	bad "cell-count: empty: empty stream, expected a Netpbm image" cell-count empty
}

@test "catalogue: cell-count, not an image" {
	bad "cell-count: garbage.txt: image 1: unreadable or truncated" cell-count garbage.txt
}

@test "catalogue: cell-count, a label value that is no class" {
	bad "cell-count: notclass.pgm: image 1: label value 200 at (0,0) is not a class" cell-count notclass.pgm
}

@test "catalogue: cell-count, a colour picture instead of a class map" {
	bad "cell-count: rgb.ppm: image 1: expected GRAYSCALE or RGB_LABEL, got PPM" cell-count rgb.ppm
}

@test "catalogue: cell-count, a file that does not exist" {
	bad "cell-count: nonexistent: No such file or directory" cell-count nonexistent
}


# --- cell-vote ---------------------------------------------------------------

@test "catalogue: cell-vote, an empty file" {
	bad "cell-vote: empty: empty stream, expected a Netpbm image" cell-vote empty
}

@test "catalogue: cell-vote, a label value that is no class" {
	bad "cell-vote: notclass.pgm: image 1: label value 200 at (0,0) is not a class" cell-vote notclass.pgm
}

@test "catalogue: cell-vote, a colour picture instead of a class map" {
	bad "cell-vote: rgb.ppm: image 1: expected GRAYSCALE or RGB_LABEL, got PPM" cell-vote rgb.ppm
}

@test "catalogue: cell-vote, a good map then a truncated tile" {
	cat zero32.pgm trunctile.pam >mixed
	bad "cell-vote: mixed: image 2: " cell-vote mixed
}
# --- colorize ----------------------------------------------------------------

@test "catalogue: colorize, an empty file" {
	bad "colorize: empty: empty stream, expected a Netpbm image" colorize empty
}

@test "catalogue: colorize, a grey picture instead of a class map" {
	bad "colorize: gray.pgm: image 1: label value 128 at (0,0) is not a class" colorize gray.pgm
}

@test "catalogue: colorize, a class map where the pictures should be" {
	bad "colorize: small.pgm: image 1: expected RGB or RGB_LABEL, got PGM" colorize -o small.pgm zero32.pgm
}

@test "catalogue: colorize, pictures instead of tiles" {
	bad "colorize: rgb.ppm: image 1: expected RGB_LABEL, got PPM" colorize -t rgb.ppm zero32.pgm
}

# --- compose-tile ------------------------------------------------------------

@test "catalogue: compose-tile, empty backgrounds" {
	bad "compose-tile: empty: empty stream, expected a Netpbm image" compose-tile -r rec.jsonl empty empty
}

@test "catalogue: compose-tile, a picture instead of backgrounds" {
	bad "compose-tile: rgb.ppm: image 1: expected RGB_LABEL, got PPM" compose-tile -r rec.jsonl rgb.ppm rgb.ppm
}

# --- crop-cells ----------------------------------------------------------------

@test "catalogue: crop-cells, a list that is not one" {
	bad "crop-cells: garbage.txt:1: expected 'ID GROUP CLASS [BOX...]'" crop-cells -M box -l garbage.txt rgb.ppm
}

@test "catalogue: crop-cells, a truncated picture" {
	bad "crop-cells: trunc.ppm: image 1: unreadable or truncated" crop-cells -M centre -c Lymphocyte trunc.ppm
}

# --- label-smear -------------------------------------------------------------

@test "catalogue: label-smear, a list that is not one" {
	bad "label-smear: garbage.txt:1: expected 'ID GROUP [BOX...]'" label-smear -l garbage.txt rgb.ppm
}

@test "catalogue: label-smear, a list that does not exist" {
	bad "label-smear: nonexistent: No such file or directory" label-smear -l nonexistent rgb.ppm
}

# --- make-background ---------------------------------------------------------

@test "catalogue: make-background, an empty file" {
	bad "make-background: empty: empty stream, expected a Netpbm image" make-background empty
}

@test "catalogue: make-background, a picture instead of samples" {
	bad "make-background: rgb.ppm: image 1: expected RGB_ALPHA, got PPM" make-background rgb.ppm
}

@test "catalogue: make-background, a sample cut short" {
	bad "make-background: trunc.pam: image 1: unreadable or truncated" make-background trunc.pam
}

# --- seg-eval ----------------------------------------------------------------

@test "catalogue: seg-eval, maps of different sizes" {
	bad "seg-eval: small.pgm: image 1 is 16x16, the truth is 32x32" seg-eval zero32.pgm small.pgm
}

@test "catalogue: seg-eval, a label value that is no class" {
	bad "seg-eval: notclass.pgm: image 1: label value 200 at (0,0) is not a class" seg-eval notclass.pgm notclass.pgm
}

@test "catalogue: seg-eval, an empty truth" {
	bad "seg-eval: empty: empty stream, expected a Netpbm image" seg-eval empty zero32.pgm
}

# --- split-dataset -----------------------------------------------------------

@test "catalogue: split-dataset, an empty file" {
	bad "split-dataset: empty: empty stream, expected a Netpbm image" split-dataset -o out empty
}

@test "catalogue: split-dataset, a picture instead of samples" {
	bad "split-dataset: rgb.ppm: image 1: expected RGB_ALPHA, got PPM" split-dataset -o out rgb.ppm
}

@test "catalogue: split-dataset, a sample cut short" {
	bad "split-dataset: trunc.pam: image 1: unreadable or truncated" split-dataset -o out trunc.pam
}

# --- tensor-diff and tensor-info ---------------------------------------------

@test "catalogue: tensor-diff, a bad safetensors header" {
	bad "tensor-diff: badhdr.st: bad safetensors header: expected tensor 'a' to be an object" tensor-diff badhdr.st badhdr.st
}

@test "catalogue: tensor-diff, a file that does not exist" {
	bad "tensor-diff: nonexistent: No such file or directory" tensor-diff nonexistent badhdr.st
}

@test "catalogue: tensor-info, neither format" {
	bad "tensor-info: garbage.txt: not a .npy or safetensors file" tensor-info garbage.txt
}

@test "catalogue: tensor-info, a bad .npy header" {
	bad "tensor-info: bad.npy: bad .npy header: expected a quoted string" tensor-info bad.npy
}

@test "catalogue: tensor-info, an empty file" {
	bad "tensor-info: empty: empty file" tensor-info empty
}

@test "catalogue: tensor-info, an endless stream" {
	bad "tensor-info: /dev/zero: not a .npy or safetensors file" tensor-info /dev/zero
}

# --- tile-stats --------------------------------------------------------------

@test "catalogue: tile-stats, pictures instead of tiles" {
	bad "tile-stats: rgb.ppm: image 1: expected RGB_LABEL, got PPM" tile-stats rgb.ppm
}

@test "catalogue: tile-stats, an empty stream" {
	bad "tile-stats: empty: empty stream, expected a Netpbm image" tile-stats empty
}

@test "catalogue: tile-stats, records that are not JSON" {
	bad "tile-stats: tiles.jsonl: line 1: ']' expected" tile-stats tiles.pam
}

# --- unet-infer ----------------------------------------------------------------

@test "catalogue: unet-infer, a bad model header" {
	bad "unet-infer: badhdr.st: bad safetensors header: expected tensor 'a' to be an object" unet-infer -m badhdr.st rgb.ppm
}

@test "catalogue: unet-infer, a model shorter than its header length" {
	bad "unet-infer: garbage.txt: not a safetensors file (shorter than the 8-byte header length)" unet-infer -m garbage.txt rgb.ppm
}

@test "catalogue: unet-infer, an empty model" {
	bad "unet-infer: empty: empty file (expected a safetensors file)" unet-infer -m empty rgb.ppm
}

@test "catalogue: unet-infer, a model that is /dev/zero" {
	bad "unet-infer: /dev/zero: not a safetensors file" unet-infer -m /dev/zero rgb.ppm
}

@test "catalogue: unet-infer, a truncated picture" {
	bad "unet-infer: trunc.ppm: image 1: unreadable or truncated" \
	    unet-infer -m "$TOP/share/models/v1.safetensors" -p probs.npy trunc.ppm
}

@test "catalogue: unet-infer, probabilities onto a FIFO" {
	mkfifo p.fifo
	bad "unet-infer: p.fifo: a FIFO (expected a regular file" \
	    unet-infer -m "$TOP/share/models/v1.safetensors" -p p.fifo rgb.ppm
}

# --- unet-train ----------------------------------------------------------------

@test "catalogue: unet-train, a config that is not a mapping" {
	bad "unet-train: garbage.txt:1: expected a mapping" unet-train -c garbage.txt -t tiles.pam -v tiles.pam -o m.st
}

@test "catalogue: unet-train, a config with an unknown key" {
	printf 'model:\n  widthz: [4]\n' >bad.yaml
	bad "unet-train: bad.yaml:2: unknown key 'widthz'" unet-train -c bad.yaml -t tiles.pam -v tiles.pam -o m.st
}

@test "catalogue: unet-train, a config with a NUL byte" {
	printf 'model:\n  input_size: 32\0\n' >nul.yaml
	bad "unet-train: nul.yaml:2: a NUL byte" unet-train -c nul.yaml -t tiles.pam -v tiles.pam -o m.st
}

@test "catalogue: unet-train, a config with a repeated key" {
	printf 'model:\n  input_size: 32\n  input_size: 64\n' >dup.yaml
	bad "unet-train: dup.yaml:3: key 'input_size' repeated (first at line 2)" unet-train -c dup.yaml -t tiles.pam -v tiles.pam -o m.st
}

@test "catalogue: unet-train, a config of 3 classes' worth of channels" {
	printf 'model:\n  in_channels: 4\n' >ch.yaml
	bad "unet-train: ch.yaml:2: in_channels: 4 is not supported" unet-train -c ch.yaml -t tiles.pam -v tiles.pam -o m.st
}

@test "catalogue: unet-train, pictures instead of tiles" {
	bad "unet-train: rgb.ppm: image 1: expected RGB_LABEL, got PPM" unet-train -c "$C" -t rgb.ppm -v tiles.pam -o m.st
}

@test "catalogue: unet-train, tiles cut short" {
	bad "unet-train: trunctile.pam: image 1: unreadable or truncated" unet-train -c "$C" -t trunctile.pam -v tiles.pam -o m.st
}

@test "catalogue: unet-train, a model to start from that is not one" {
	bad "unet-train: badhdr.st: bad safetensors header" unet-train -c "$C" -t tiles.pam -v tiles.pam -o m.st -i badhdr.st
}

@test "catalogue: unet-train, a checkpoint that is not one" {
	mkdir ck && cp badhdr.st ck/checkpoint.safetensors
	bad "unet-train: ck/checkpoint.safetensors: bad safetensors header" unet-train -c "$C" -t tiles.pam -v tiles.pam -o m.st -r ck
}

@test "catalogue: unet-train, a model onto a directory" {
	mkdir out.st
	bad "unet-train: out.st: a directory (expected a regular file" unet-train -c "$C" -t tiles.pam -v tiles.pam -o out.st
}
