#!/usr/bin/env bats
# This script tests: colorize
# Also requires: netpbm (pamtopng, pngtopam, pamchannel, pamcut, pnmnoraw,
#   ppmtopgm, pamsumm, ppmmake)

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/seg-eval

# A 12x1 class map holding 0..9, 255, 0.
classmap() {
	printf 'P5\n12 1\n255\n\0\1\2\3\4\5\6\7\10\11\377\0'
}

@test "colorize: every class gets its palette colour exactly, through PNG" {
	classmap >"$BATS_TEST_TMPDIR/m.pgm"
	colorize <"$BATS_TEST_TMPDIR/m.pgm" | pamtopng >"$BATS_TEST_TMPDIR/m.png"
	pngtopam <"$BATS_TEST_TMPDIR/m.png" | pamtopnm | pnmnoraw | tail -n +4 |
	    tr -s ' \n' '\n\n' | grep -v '^$' | paste -d' ' - - - >"$BATS_TEST_TMPDIR/got"
	cat >"$BATS_TEST_TMPDIR/want" <<-'END'
	0 0 0
	0 255 255
	0 128 128
	251 190 190
	128 128 0
	0 0 128
	255 255 0
	255 0 255
	255 0 0
	0 255 0
	255 255 255
	0 0 0
	END
	diff "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
}

@test "colorize: an RGB_LABEL tile is coloured by its label plane" {
	colorize "$F/truth.pam" >"$BATS_TEST_TMPDIR/a.ppm"
	pamchannel -tupletype GRAYSCALE 3 <"$F/truth.pam" | colorize >"$BATS_TEST_TMPDIR/b.ppm"
	cmp "$BATS_TEST_TMPDIR/a.ppm" "$BATS_TEST_TMPDIR/b.ppm"
	run pamfile "$BATS_TEST_TMPDIR/a.ppm"
	[[ "$output" == *"PPM raw, 4 by 3"* ]]
}

@test "colorize: a stream of maps gives a stream of pictures" {
	{ classmap; classmap; classmap; } | colorize >"$BATS_TEST_TMPDIR/s.ppm"
	run pamfile -count "$BATS_TEST_TMPDIR/s.ppm"
	[[ "$output" == *"3 images"* ]]
}

@test "colorize: --overlay keeps background pixels and blends the rest" {
	pamchannel -tupletype RGB 0 1 2 <"$F/truth.pam" >"$BATS_TEST_TMPDIR/img.ppm"
	pamchannel -tupletype GRAYSCALE 3 <"$F/truth.pam" >"$BATS_TEST_TMPDIR/m.pgm"
	colorize -a 0.5 --overlay "$BATS_TEST_TMPDIR/img.ppm" "$BATS_TEST_TMPDIR/m.pgm" |
	    pnmnoraw | tail -n +4 | tr -s ' \n' '\n\n' | grep -v '^$' |
	    paste -d' ' - - - >"$BATS_TEST_TMPDIR/got"
	# pixel 0: background, image (200,100,50) unchanged
	[ "$(sed -n 1p "$BATS_TEST_TMPDIR/got")" = "200 100 50" ]
	# pixel 2: Eosinophil (0,255,255) over (200,102,50): half and half, rounded
	[ "$(sed -n 3p "$BATS_TEST_TMPDIR/got")" = "100 179 153" ]
}

@test "colorize: --side-by-side is image | prediction | truth" {
	colorize --side-by-side "$F/truth.pam" "$F/pred.pgm" >"$BATS_TEST_TMPDIR/s.ppm"
	run pamfile "$BATS_TEST_TMPDIR/s.ppm"
	[[ "$output" == *"20 by 3"* ]]
	pamcut -left 0 -width 4 "$BATS_TEST_TMPDIR/s.ppm" >"$BATS_TEST_TMPDIR/p1.ppm"
	pamchannel -tupletype RGB 0 1 2 <"$F/truth.pam" | pamtopnm >"$BATS_TEST_TMPDIR/img.ppm"
	cmp "$BATS_TEST_TMPDIR/p1.ppm" "$BATS_TEST_TMPDIR/img.ppm"
	pamcut -left 8 -width 4 "$BATS_TEST_TMPDIR/s.ppm" >"$BATS_TEST_TMPDIR/p2.ppm"
	colorize "$F/pred.pgm" | cmp - "$BATS_TEST_TMPDIR/p2.ppm"
	pamcut -left 16 -width 4 "$BATS_TEST_TMPDIR/s.ppm" >"$BATS_TEST_TMPDIR/p3.ppm"
	colorize "$F/truth.pam" | cmp - "$BATS_TEST_TMPDIR/p3.ppm"
}

@test "colorize: --side-by-side needs RGB_LABEL tiles" {
	run --separate-stderr colorize --side-by-side "$F/pred.pgm" "$F/pred.pgm"
	assert_fails_cleanly "pred.pgm: image 1: expected RGB_LABEL, got PGM"
}

@test "colorize: more maps than overlay images" {
	cat "$F/pred.pgm" "$F/pred.pgm" >"$BATS_TEST_TMPDIR/p2.pgm"
	run --separate-stderr colorize -o "$F/truth.pam" "$BATS_TEST_TMPDIR/p2.pgm"
	assert_fails_cleanly "truth.pam: has 1 images, the maps have more"
}

@test "colorize: more overlay images than maps" {
	cat "$F/truth.pam" "$F/truth.pam" >"$BATS_TEST_TMPDIR/t2.pam"
	run --separate-stderr colorize -o "$BATS_TEST_TMPDIR/t2.pam" "$F/pred.pgm"
	assert_fails_cleanly "t2.pam: has more images than the 1 class maps"
}

@test "colorize: a bad image late in a stream leaves stdout empty" {
	{ classmap; classmap; printf 'P5\n2 1\n255\n\0\77'; } >"$BATS_TEST_TMPDIR/bad.pgm"
	run --separate-stderr colorize "$BATS_TEST_TMPDIR/bad.pgm"
	assert_fails_cleanly "bad.pgm: image 3: label value 63 at (1,0)"
}

@test "colorize: bad alpha and unknown option" {
	run --separate-stderr colorize -a 2 "$F/pred.pgm"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "${stderr_lines[0]}" == "colorize: invalid alpha '2': out of range"* ]]
	run --separate-stderr colorize --bogus
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "colorize: unknown option '--bogus'" ]
	[[ "${stderr_lines[1]}" == "usage: colorize "* ]]
}

@test "colorize: --help and --version" {
	run colorize -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: colorize "* ]]
	run colorize --version
	[[ "$output" == "colorize (smearseg) "* ]]
}

# The pixel at (X, Y) of a PPM on standard input, as "R G B".
pixel() {
	pamcut -left "$1" -top "$2" -width 1 -height 1 | pnmnoraw | tail -n +4 |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

@test "colorize: --legend draws every class's colour beside its index and name" {
	colorize --legend >"$BATS_TEST_TMPDIR/l.ppm"
	run pamfile "$BATS_TEST_TMPDIR/l.ppm"
	[[ "$output" == *"PPM raw, 316 by 376"* ]]
	# the swatch of class i: rows 8 + 28 i .. + 24, columns 8 .. 48
	want=("0 0 0" "0 255 255" "0 128 128" "251 190 190" "128 128 0" "0 0 128"
	    "255 255 0" "255 0 255" "255 0 0" "0 255 0" "192 192 192" "128 128 128"
	    "255 255 255")
	for i in $(seq 0 12); do
		got=$(pixel 28 $((8 + 28 * i + 12)) <"$BATS_TEST_TMPDIR/l.ppm")
		[ "$got" = "${want[$i]}" ] || { echo "row $i: $got"; false; }
		# and some text in black to its right
		pamcut -left 56 -top $((8 + 28 * i)) -width 250 -height 24 \
		    <"$BATS_TEST_TMPDIR/l.ppm" | ppmtopgm | pamsumm -min -brief |
		    grep -qx 0
	done
	# the infected red cells' swatch is hatched, as in overlays
	[ "$(pixel 12 $((8 + 28 * 8 + 1)) <"$BATS_TEST_TMPDIR/l.ppm")" = "255 255 255" ]
}

@test "colorize: the README's legend is the one colorize draws" {
	pngtopam "$TOP/share/doc/legend.png" >"$BATS_TEST_TMPDIR/a.ppm"
	colorize --legend | cmp - "$BATS_TEST_TMPDIR/a.ppm"
}

@test "colorize: --legend takes no images" {
	run --separate-stderr colorize --legend "$F/pred.pgm"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "colorize: --legend takes no images" ]
	[ -z "$output" ]
}

@test "colorize: overlays hatch infected red cells, and nothing else" {
	ppmmake '#808080' 8 1 >"$BATS_TEST_TMPDIR/g.ppm"
	printf 'P5\n8 1\n255\n\10\10\10\10\10\10\10\10' >"$BATS_TEST_TMPDIR/i.pgm"
	printf 'P5\n8 1\n255\n\11\11\11\11\11\11\11\11' >"$BATS_TEST_TMPDIR/h.pgm"
	colorize -a 0.5 -o "$BATS_TEST_TMPDIR/g.ppm" "$BATS_TEST_TMPDIR/i.pgm" >"$BATS_TEST_TMPDIR/io.ppm"
	colorize -a 0.5 -o "$BATS_TEST_TMPDIR/g.ppm" "$BATS_TEST_TMPDIR/h.pgm" >"$BATS_TEST_TMPDIR/ho.ppm"
	# stripes 4 px wide: columns 0-3 blended, 4-7 the image
	[ "$(pixel 0 0 <"$BATS_TEST_TMPDIR/io.ppm")" = "192 64 64" ]
	[ "$(pixel 5 0 <"$BATS_TEST_TMPDIR/io.ppm")" = "128 128 128" ]
	[ "$(pixel 5 0 <"$BATS_TEST_TMPDIR/ho.ppm")" = "64 192 64" ]
	# plain colour maps keep the table's colour everywhere
	[ "$(colorize "$BATS_TEST_TMPDIR/i.pgm" | pixel 5 0)" = "255 0 0" ]
}
