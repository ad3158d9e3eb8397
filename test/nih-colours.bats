#!/usr/bin/env bats
# This script tests: pipelines/nih-colours.sh
# Also requires: netpbm (pngtopam, pamtable)
#
# A small NIH folder made from share/blocks: the six cells of slide C47P8,
# photographed through a Motic camera (bluish) and an Olympus one (pink),
# and two pink cells of slide C100P61.

load test_helper

B=$TOP/share/blocks/nih_malaria_cell_images

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p s/nih_malaria_cell_images/Parasitized s/nih_malaria_cell_images/Uninfected
	for d in Parasitized Uninfected; do
		cp "$B"/$d/C47P8thin*.png "$B"/$d/C100P61ThinF_IMG_20150918_144104_*.png \
		    s/nih_malaria_cell_images/$d/
	done
}

value() { sed -n "s/^nih-colours: $1 //p" out; }

@test "nih-colours: a slide through two cameras is one slide of two casts" {
	sh "$TOP/pipelines/nih-colours.sh" -s s -t t.tsv >out
	[ "$(value cells)" = 8 ]
	[ "$(value cells_infected)" = 5 ]
	[ "$(value cells_healthy)" = 3 ]
	# C47P8: its Motic cells bluish, its Olympus cells pink
	[ "$(value bluish_infected)" = 2 ]
	[ "$(value bluish_healthy)" = 1 ]
	[ "$(value slides)" = 2 ]
	[ "$(value slides_multi)" = 2 ]
	[ "$(value slides_multi_one_cast)" = 1 ]
	[ "$(wc -l <t.tsv)" -eq 9 ]
	head -n 1 t.tsv | grep -q "^file	class	slide	blue_over_red$"
	awk -F'\t' '$1 ~ /Motic/ { exit !($3 == "C47P8thin" && $4 > 0.95) }' t.tsv
	awk -F'\t' '$1 ~ /Olympus/ { exit !($3 == "C47P8thin" && $4 <= 0.95) }' t.tsv
}

@test "nih-colours: blue over red is that of the mean colour of the cell's pixels" {
	# a 2x1 photo: one black pixel (left out) and one of 100 50 80
	printf 'P3 2 1 255 0 0 0 100 50 80\n' | pnmtopng >s/nih_malaria_cell_images/Uninfected/X_1.png
	sh "$TOP/pipelines/nih-colours.sh" -s s -t t.tsv >out
	[ "$(awk -F'\t' '$3 == "X" { print $4 }' t.tsv)" = 0.800 ]
	[ "$(value slides)" = 3 ]
}

@test "nih-colours: bad input is one error line" {
	run --separate-stderr sh "$TOP/pipelines/nih-colours.sh" -s nowhere
	assert_fails_cleanly "nowhere/nih_malaria_cell_images: no such directory"
	echo 'not a png' >s/nih_malaria_cell_images/Uninfected/Y_1.png
	run --separate-stderr sh "$TOP/pipelines/nih-colours.sh" -s s -t t.tsv
	[ "$status" -ne 0 ] && [ -z "$output" ] && [ ! -e t.tsv ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "nih-colours.sh: s/nih_malaria_cell_images/Uninfected/Y_1.png: "* ]]
	rm s/nih_malaria_cell_images/Uninfected/Y_1.png
	printf 'P3 1 1 255 0 0 0\n' | pnmtopng >s/nih_malaria_cell_images/Uninfected/Z_1.png
	run --separate-stderr sh "$TOP/pipelines/nih-colours.sh" -s s
	assert_fails_cleanly "nih-colours.sh: s/nih_malaria_cell_images/Uninfected/Z_1.png: no cell pixel"
	mkdir -p e/nih_malaria_cell_images
	run --separate-stderr sh "$TOP/pipelines/nih-colours.sh" -s e
	assert_fails_cleanly "e/nih_malaria_cell_images: no cell photo"
	run --separate-stderr sh "$TOP/pipelines/nih-colours.sh" extra
	[ "$status" -ne 0 ] && [[ "$stderr" == usage:* ]]
}
