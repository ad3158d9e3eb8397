#!/usr/bin/env bats
# This script tests: the shared Netpbm readers (lib/image.c), through
#   colorize and seg-eval, which read class maps, photos and tiles
# Also requires: netpbm (pgmmake, ppmmake, pnmtojpeg, pamtopng, ppmtobmp,
#   pamtotiff), unet-infer, cell-count

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/seg-eval

tile_header() { # W H [TUPLTYPE] [DEPTH] [MAXVAL]
	printf 'P7\nWIDTH %d\nHEIGHT %d\nDEPTH %d\nMAXVAL %d\nTUPLTYPE %s\nENDHDR\n' \
	    "$1" "$2" "${4:-4}" "${5:-255}" "${3:-RGB_LABEL}"
}

@test "reader: an empty stream" {
	run --separate-stderr colorize </dev/null
	assert_fails_cleanly "colorize: <stdin>: empty stream, expected a Netpbm image"
	: >"$BATS_TEST_TMPDIR/empty.pam"
	run --separate-stderr seg-eval "$BATS_TEST_TMPDIR/empty.pam" "$F/pred.pgm"
	assert_fails_cleanly "seg-eval: $BATS_TEST_TMPDIR/empty.pam: empty stream"
}

@test "reader: a truncated class map" {
	head -c 15 "$F/pred.pgm" >"$BATS_TEST_TMPDIR/t.pgm"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/t.pgm"
	assert_fails_cleanly "t.pgm: image 1: unreadable or truncated"
}

@test "reader: a truncated tile" {
	head -c 80 "$F/truth.pam" >"$BATS_TEST_TMPDIR/t.pam"
	run --separate-stderr seg-eval "$BATS_TEST_TMPDIR/t.pam" "$F/pred.pgm"
	assert_fails_cleanly "t.pam: image 1: unreadable or truncated"
}

@test "reader: the second image of a stream is truncated" {
	{ cat "$F/pred.pgm"; head -c 14 "$F/pred.pgm"; } >"$BATS_TEST_TMPDIR/t.pgm"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/t.pgm"
	assert_fails_cleanly "t.pgm: image 2: unreadable or truncated"
}

@test "reader: not a Netpbm file" {
	echo "hello world" >"$BATS_TEST_TMPDIR/x.txt"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/x.txt"
	assert_fails_cleanly "x.txt: image 1: unreadable or truncated (bad magic number"
}

@test "reader: wrong tuple type for a tile" {
	{ tile_header 4 3 RGB_ALPHA; head -c 48 /dev/zero; } >"$BATS_TEST_TMPDIR/a.pam"
	run --separate-stderr seg-eval "$BATS_TEST_TMPDIR/a.pam" "$F/pred.pgm"
	assert_fails_cleanly "a.pam: image 1: expected GRAYSCALE or RGB_LABEL, got PAM RGB_ALPHA depth 4"
}

@test "reader: wrong depth for a tile" {
	{ tile_header 4 3 RGB_LABEL 3; head -c 36 /dev/zero; } >"$BATS_TEST_TMPDIR/d.pam"
	run --separate-stderr seg-eval "$BATS_TEST_TMPDIR/d.pam" "$F/pred.pgm"
	assert_fails_cleanly "d.pam: image 1: expected GRAYSCALE or RGB_LABEL, got PAM RGB_LABEL depth 3"
}

@test "reader: a colour image where a class map is expected" {
	ppmmake red 4 3 >"$BATS_TEST_TMPDIR/c.ppm"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/c.ppm"
	assert_fails_cleanly "c.ppm: image 1: expected GRAYSCALE or RGB_LABEL, got PPM"
}

@test "reader: a label value above 9 that is not 255" {
	{ tile_header 2 1; printf '\1\1\1\11\1\1\1\12'; } >"$BATS_TEST_TMPDIR/l.pam"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/l.pam"
	assert_fails_cleanly "l.pam: image 1: label value 10 at (1,0) is not a class (0..9), a partial label or 255"
}

@test "reader: label 255 is accepted as ignore" {
	{ tile_header 2 1; printf '\1\1\1\11\1\1\1\377'; } >"$BATS_TEST_TMPDIR/l.pam"
	run colorize "$BATS_TEST_TMPDIR/l.pam"
	[ "$status" -eq 0 ]
}

@test "reader: an RGB_LABEL tile must have maxval 255" {
	{ tile_header 2 1 RGB_LABEL 4 15; printf '\1\1\1\1\1\1\1\1'; } >"$BATS_TEST_TMPDIR/m.pam"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/m.pam"
	assert_fails_cleanly "m.pam: image 1: RGB_LABEL maxval must be 255, not 15"
}

@test "reader: a missing file" {
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/nonexistent.pgm"
	assert_fails_cleanly "nonexistent.pgm: No such file or directory"
}

@test "reader: overlay images of another size" {
	ppmmake red 5 3 >"$BATS_TEST_TMPDIR/c.ppm"
	run --separate-stderr colorize -o "$BATS_TEST_TMPDIR/c.ppm" "$F/pred.pgm"
	assert_fails_cleanly "c.ppm: image 1 is 5x3, its class map is 4x3"
}

# A photo format where Netpbm is read: one line that names the format and
# the converter, from every reader (class maps, photos, both as files and
# on standard input).
@test "reader: JPEG, PNG, BMP and TIFF files are recognised by their magic" {
	d=$BATS_TEST_TMPDIR
	ppmmake '#c08080' 8 6 >"$d/p.ppm"
	pnmtojpeg "$d/p.ppm" >"$d/p.jpg"
	pamtopng "$d/p.ppm" >"$d/p.png"
	ppmtobmp "$d/p.ppm" >"$d/p.bmp" 2>/dev/null
	pamtotiff "$d/p.ppm" >"$d/p.tif" 2>/dev/null
	for x in "jpg JPEG jpegtopnm" "png PNG pngtopam" "bmp BMP bmptopnm" \
	    "tif TIFF tifftopnm"; do
		set -- $x
		run --separate-stderr colorize "$d/p.$1"
		assert_fails_cleanly "colorize: $d/p.$1: looks like a $2 file: decode it with $3, or use smear-segment"
		run --separate-stderr unet-infer <"$d/p.$1"
		assert_fails_cleanly "unet-infer: <stdin>: looks like a $2 file: decode it with $3"
		run --separate-stderr cell-count "$d/p.$1"
		assert_fails_cleanly "cell-count: $d/p.$1: looks like a $2 file"
	done
}

@test "reader: a JPEG after the first image of a stream" {
	ppmmake red 4 3 >"$BATS_TEST_TMPDIR/c.ppm"
	pnmtojpeg "$BATS_TEST_TMPDIR/c.ppm" >"$BATS_TEST_TMPDIR/c.jpg"
	cat "$F/pred.pgm" "$BATS_TEST_TMPDIR/c.jpg" >"$BATS_TEST_TMPDIR/s.pgm"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/s.pgm"
	assert_fails_cleanly "s.pgm: image 2: looks like a JPEG file"
}

@test "reader: a directory given as a file" {
	mkdir "$BATS_TEST_TMPDIR/dir"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/dir"
	assert_fails_cleanly "colorize: $BATS_TEST_TMPDIR/dir: is a directory, expected a file"
	run --separate-stderr cell-count <"$BATS_TEST_TMPDIR/dir"
	assert_fails_cleanly "cell-count: <stdin>: is a directory, expected a file"
	run --separate-stderr unet-infer -m "$BATS_TEST_TMPDIR/dir" "$F/pred.pgm"
	assert_fails_cleanly "unet-infer: $BATS_TEST_TMPDIR/dir: is a directory, expected a file"
}
