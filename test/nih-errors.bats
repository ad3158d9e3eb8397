#!/usr/bin/env bats
# This script tests: pipelines/nih-errors.sh
# Also requires: colorize, netpbm (pbmtext, pamscale, pamcut, pamcat)
#
# A kept NIH part as eval-real.sh -k writes it, made here from two NIH
# photos of share/blocks: each cell on a 64x64 plasma canvas, and a class
# map that calls the first Healthy RBC (9), the second Infected RBC (8).

load test_helper

B=$TOP/share/blocks/nih_malaria_cell_images
P=Parasitized/C107P68ThinF_IMG_20150924_221909_cell_162
H=Uninfected/C100P61ThinF_IMG_20150918_144104_cell_21

# map C: a 64x64 class map, class C on the central 40x40, 0 around it
map() {
	awk -v c="$1" 'BEGIN {
		print "P2 64 64 255"
		for (y = 0; y < 64; y++)
			for (x = 0; x < 64; x++)
				print (x >= 12 && x < 52 && y >= 12 && y < 52) ? c : 0
	}' | pnmtopnm
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p keep/nih
	for f in "$P" "$H"; do
		pngtopam "$B/$f.png" | pamtopnm | pamscale -xyfit 40 40 >c.ppm
		ppmmake rgb:e1/d7/d4 64 64 | pnmpaste c.ppm 12 12 >>keep/nih/images.ppm
	done
	map 9 >keep/nih/pred.pgm
	map 8 >>keep/nih/pred.pgm
	printf 'id\ttruth\tcalled\tvotes\tpixels\n' >keep/nih/cells.tsv
	printf 'nih/%s\tInfected_RBC\tHealthy_RBC\t1\t1\n' "$P" >>keep/nih/cells.tsv
	printf 'nih/%s\tHealthy_RBC\tInfected_RBC\t1\t1\n' "$H" >>keep/nih/cells.tsv
}

size() { pngtopam "$1" | pamfile -size; }

@test "nih-errors: one column per cell called wrong" {
	run sh "$TOP/pipelines/nih-errors.sh" keep out.png
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	set -- $(size out.png)
	[ "$1" -eq $((2 * 168)) ]
	[ "$2" -gt $((3 * 160)) ]
}

@test "nih-errors: a cell called right is left out, unless -a" {
	awk 'BEGIN { FS = OFS = "\t" } NR == 3 { $3 = $2 } 1' keep/nih/cells.tsv >t
	mv t keep/nih/cells.tsv
	sh "$TOP/pipelines/nih-errors.sh" keep one.png
	set -- $(size one.png)
	[ "$1" -eq 168 ]
	sh "$TOP/pipelines/nih-errors.sh" -a keep all.png
	set -- $(size all.png)
	[ "$1" -eq $((2 * 168)) ]
}

@test "nih-errors: the top of a column is the NIH photo at its own resolution" {
	sh "$TOP/pipelines/nih-errors.sh" keep out.png
	pngtopam out.png | pamcut -left 0 -top 0 -width 160 -height 160 >got.ppm
	pngtopam "$B/$P.png" | pamtopnm | pamscale -xyfit 160 160 |
	    pnmpad -black -width 160 -height 160 >want.ppm
	cmp got.ppm want.ppm
	# and the class map below it: Healthy RBC's colour at the cell's centre
	want=$(colorize keep/nih/pred.pgm | pamcut -left 32 -top 32 -width 1 -height 1 |
	    pamtopnm -plain | sed -n 3p | tr -s ' ' | sed 's/^ //; s/ $//')
	got=$(pngtopam out.png | pamcut -left 80 -top $((320 + 80)) -width 1 -height 1 |
	    pamtopnm -plain | sed -n 3p | tr -s ' ' | sed 's/^ //; s/ $//')
	[ "$got" = "$want" ]
}

@test "nih-errors: a canvas under 64 px is shown whole" {
	for f in images.ppm pred.pgm; do
		pamsplit -quiet keep/nih/$f "part%d"
		for i in 0 1; do pamcut -left 12 -top 12 -width 40 -height 40 part$i; done \
		    >keep/nih/$f
		rm part0 part1
	done
	sh "$TOP/pipelines/nih-errors.sh" keep out.png
	set -- $(size out.png)
	[ "$1" -eq $((2 * 168)) ]
	# the second row is the whole 40x40 cell enlarged: no plasma at its corner
	got=$(pngtopam out.png | pamcut -left 0 -top 160 -width 1 -height 1 |
	    pamtopnm -plain | sed -n 3p | tr -s ' ' | sed 's/^ //; s/ $//')
	[ "$got" != "225 215 212" ]
}

@test "nih-errors: no cell called wrong writes nothing and says so" {
	awk 'BEGIN { FS = OFS = "\t" } NR > 1 { $3 = $2 } 1' keep/nih/cells.tsv >t
	mv t keep/nih/cells.tsv
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" keep out.png
	assert_fails_cleanly "keep/nih/cells.tsv: no cell called wrong"
	[ ! -e out.png ]
}

@test "nih-errors: a missing part is one error line naming the file" {
	rm keep/nih/pred.pgm
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" keep out.png
	assert_fails_cleanly "keep/nih/pred.pgm: cannot read"
	[ ! -e out.png ]
}

@test "nih-errors: a table that does not match the images is refused" {
	printf 'nih/%s\tHealthy_RBC\tInfected_RBC\t1\t1\n' "$H" >>keep/nih/cells.tsv
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" keep out.png
	assert_fails_cleanly "cells.tsv has 3 cells, images.ppm 2 images"
	[ ! -e out.png ]
}

@test "nih-errors: an id that is not an NIH cell, or a photo that is not there" {
	sed -i "2s|^nih/[^\t]*|pbc/basophil/BA_1|" keep/nih/cells.tsv
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" keep out.png
	assert_fails_cleanly "cells.tsv: cell 1: id 'pbc/basophil/BA_1' is not nih/CLASS/NAME"
	[ ! -e out.png ]
	sed -i "2s|^[^\t]*|nih/Parasitized/none|" keep/nih/cells.tsv
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" keep out.png
	assert_fails_cleanly "Parasitized/none.png: cannot read"
	[ ! -e out.png ]
}

@test "nih-errors: bad usage" {
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" keep
	assert_fails_cleanly "usage: nih-errors.sh"
	run --separate-stderr sh "$TOP/pipelines/nih-errors.sh" -s nowhere keep out.png
	assert_fails_cleanly "nowhere/nih_malaria_cell_images: no such directory"
}
