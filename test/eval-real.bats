#!/usr/bin/env bats
# This script tests: pipelines/eval-real.sh (make eval-real)
# Also requires: unet-train, unet-infer, crop-cells, cell-count, seg-eval,
# tensor-info, cell-vote, pipelines/eval-bbbc041.sh, netpbm
#
# A tiny model (share/unet-tiny.yaml, 32 px windows) on a few real
# images: two held-out BCCD smears (-n 2), a small test-split stream cut
# here from share/blocks (two white cells, two NIH red cells), the unet
# fixture tiles as the synthetic test split, and a BBBC041Seg-shaped
# folder made from a BCCD smear, so that nothing outside the tree is
# needed.  Only the form and range of the figures are checked, never
# their values.

load test_helper

U=$BATS_TEST_DIRNAME/fixtures/unet
B=$TOP/share/blocks

setup_file() {
	local t=$BATS_FILE_TMPDIR
	unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$U/train.pam" \
	    -v "$U/val.pam" -e 1 -o "$t/m.st"

	# the test split: samples as pipelines/blocks.sh makes them
	mkdir -p "$t/ds"
	{
		echo 'zxaoyou1/013 zxaoyou1/013 Monocyte' >"$t/l1"
		{ pngtopam "$B/zxaoyou_segmentation_WBC/dataset1/013.bmp.png"
		  pngtopam "$B/zxaoyou_segmentation_WBC/dataset1/013.png"; } |
		    crop-cells -q -M mask -S zxaoyou1 -s 0.85 -l "$t/l1"
		echo 'pbc/basophil/BA_101611 pbc/basophil/BA_101611 Basophil' >"$t/l2"
		jpegtopnm -quiet "$B/pbc_acevedo/basophil/BA_101611.jpg" |
		    crop-cells -q -M centre -S pbc -s 0.51 -l "$t/l2"
		p=C107P68ThinF_IMG_20150924_221909_cell_162
		h=C100P61ThinF_IMG_20150918_144104_cell_21
		printf '%s\n' "nih/Parasitized/$p nih/C107P68ThinF Infected_RBC" \
		    "nih/Uninfected/$h nih/C100P61ThinF Healthy_RBC" >"$t/l3"
		{ pngtopam "$B/nih_malaria_cell_images/Parasitized/$p.png"
		  pngtopam "$B/nih_malaria_cell_images/Uninfected/$h.png"; } |
		    crop-cells -q -M black -S nih -s 0.29 -l "$t/l3" |
		    tee "$t/nih.pam"
	} >"$t/ds/samples.test.pam"
	cp "$U/val.pam" "$t/ds/test.pam"

	# a BBBC041Seg-shaped folder: a smear and a mask of its dark pixels
	mkdir -p "$t/src/eval_bbbc041seg/images" "$t/src/eval_bbbc041seg/masks"
	jpegtopnm -quiet "$TOP/share/eval/bccd/JPEGImages/BloodImage_00005.jpg" |
	    pamscale 0.5 >"$t/smear.ppm"
	pamtopng "$t/smear.ppm" >"$t/src/eval_bbbc041seg/images/a.png"
	ppmtopgm "$t/smear.ppm" | pamthreshold -simple -threshold 0.75 |
	    pnminvert | pnmtopng >"$t/src/eval_bbbc041seg/masks/a.png"

	sh "$TOP/pipelines/eval-real.sh" -n 2 -s "$t/src" -d "$t/ds" \
	    -k "$t/keep" "$t/m.st" >"$t/out" 2>"$t/err"
}

# value NAME: the value of figure NAME in the run's output
value() { sed -n "s/^eval: $1 //p" "$BATS_FILE_TMPDIR/out"; }
is_share() { [[ $1 == nan ]] || awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v >= 0 && v <= 1) }'; }
is_count() { [[ $1 =~ ^[0-9]+$ ]]; }
is_nonneg() { [[ $1 == nan ]] || [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

@test "eval-real: standard output holds only figure lines" {
	[ -s "$BATS_FILE_TMPDIR/out" ]
	run grep -v -c -E '^eval: [a-z0-9_A-Z]+ [^ ]+$' "$BATS_FILE_TMPDIR/out"
	[ "$output" = 0 ]
	# no name twice
	[ -z "$(cut -d' ' -f2 "$BATS_FILE_TMPDIR/out" | sort | uniq -d)" ]
}

@test "eval-real: every figure of the five parts, shares in [0,1]" {
	local n v
	for n in bccd_wbc_recall bccd_platelet_recall bccd_rbc_infected_rate \
	    bccd_wbc_called_{Eosinophil,Basophil,Neutrophil,Lymphocyte,Monocyte} \
	    bbbc041_cell_iou bbbc041_cell_dice \
	    crops_wbc_accuracy crops_wbc_accuracy_pbc crops_wbc_accuracy_zxaoyou \
	    crops_wbc_recall_{Eosinophil,Basophil,Neutrophil,Lymphocyte,Monocyte} \
	    nih_balanced_accuracy nih_recall_infected nih_recall_healthy \
	    nih_fixed_balanced_accuracy nih_fixed_recall_infected \
	    nih_fixed_recall_healthy synthetic_mean_iou synthetic_pixel_accuracy; do
		v=$(value "$n")
		is_share "$v" || { echo "$n: '$v'"; return 1; }
	done
	for n in bccd_wbc_count_mae bccd_parasitemia_median_pct bccd_parasitemia_p90_pct; do
		v=$(value "$n")
		is_nonneg "$v" || { echo "$n: '$v'"; return 1; }
	done
}

@test "eval-real: the counts match the input" {
	[ "$(value bccd_images)" = 2 ]
	for n in bccd_wbc_boxes bccd_platelet_boxes bccd_rbc_boxes crops_wbc_not_found; do
		is_count "$(value $n)" || { echo "$n: '$(value $n)'"; return 1; }
	done
	[ "$(value bbbc041_images)" = 1 ]
	[ "$(value crops_wbc_n)" = 2 ]
	[ "$(value crops_wbc_n_pbc)" = 1 ]
	[ "$(value crops_wbc_n_zxaoyou)" = 1 ]
	[ "$(value nih_n)" = 2 ]
	[ "$(value nih_n_infected)" = 1 ]
	[ "$(value nih_n_healthy)" = 1 ]
	[ "$(value synthetic_tiles)" = 2 ]
}

@test "eval-real: the headline shares come with 95 % intervals around them" {
	local n v lo hi
	for n in bccd_wbc_recall bccd_platelet_recall bccd_rbc_infected_rate \
	    crops_wbc_accuracy nih_balanced_accuracy nih_fixed_balanced_accuracy; do
		v=$(value "$n") lo=$(value "${n}_lo95") hi=$(value "${n}_hi95")
		is_share "$lo" && is_share "$hi" || { echo "$n: '$lo' '$hi'"; return 1; }
		awk -v v="$v" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(lo <= v && v <= hi && lo < hi) }' ||
		    { echo "$n: $v not in [$lo, $hi]"; return 1; }
	done
	# one infected and one healthy NIH cell: Wilson's interval of a share
	# of 1 is [0.207, 1], of 0 is [0, 0.793] (z = 1.96); their mean's
	# MOVER interval follows from those
	ri=$(value nih_recall_infected) rh=$(value nih_recall_healthy)
	case $ri$rh in
	1.0001.000) want="0.207 1.000" ;;
	0.0000.000) want="0.000 0.793" ;;
	*) want="0.103 0.897" ;;
	esac
	[ "$(value nih_balanced_accuracy_lo95) $(value nih_balanced_accuracy_hi95)" = "$want" ]
	# and a share of 2 of 2 white cells, or 1 of 2, or 0 of 2
	case $(value crops_wbc_accuracy) in
	1.000) want="0.342 1.000" ;;
	0.500) want="0.095 0.905" ;;
	0.000) want="0.000 0.658" ;;
	esac
	[ "$(value crops_wbc_accuracy_lo95) $(value crops_wbc_accuracy_hi95)" = "$want" ]
}

@test "eval-real: -k keeps the maps, the tables and the figures" {
	local k=$BATS_FILE_TMPDIR/keep
	cmp "$k/figures.txt" "$BATS_FILE_TMPDIR/out"
	[ "$(pamfile -count "$k/bccd/pred.pgm" | grep -o '[0-9]* images')" = "2 images" ]
	# one line per box / cell under a header
	[ "$(wc -l <"$k/bccd/boxes.tsv")" -eq $(( $(value bccd_wbc_boxes) + \
	    $(value bccd_platelet_boxes) + $(value bccd_rbc_boxes) + 1 )) ]
	[ "$(wc -l <"$k/crops/cells.tsv")" -eq 3 ]
	[ "$(wc -l <"$k/nih/cells.tsv")" -eq 3 ]
	head -n 1 "$k/crops/cells.tsv" | grep -q "^id	source	truth"
	[ -f "$k/bbbc041/report.yaml" ]
	[ -f "$k/synthetic/report.yaml" ]
}

@test "eval-real: each NIH cell is composited at the centre of its canvas" {
	local k=$BATS_FILE_TMPDIR/keep f
	# the bounding box of the pixels that are not the canvas colour (its
	# top left pixel's), per image, has its centre within 1 px of the
	# canvas centre; on both canvases
	for f in images images-fixed; do
	pnmtoplainpnm "$k/nih/$f.ppm" | tr -s ' \t\n' '\n\n\n' | awk '
	function check() {
		if (x1 < 0) { print "image " img ": no cell"; bad = 1; return }
		cx = (x0 + x1) / 2; cy = (y0 + y1) / 2
		if (cx - (w - 1) / 2 > 1 || (w - 1) / 2 - cx > 1 ||
		    cy - (h - 1) / 2 > 1 || (h - 1) / 2 - cy > 1) {
			print "image " img ": cell centred at " cx "," cy \
			    " in " w "x" h
			bad = 1
		}
	}
	$0 == "P3" { if (img) check(); img++; hdr = 0; p = 0; x0 = y0 = 1e9
		x1 = y1 = -1; next }
	hdr < 3 { hdr++; if (hdr == 1) w = $1; if (hdr == 2) h = $1; next }
	{
		v[p % 3] = $1
		if (p % 3 == 2) {
			i = int(p / 3); x = i % w; y = int(i / w)
			if (i == 0)
				bg = v[0] " " v[1] " " v[2]
			if (v[0] " " v[1] " " v[2] != bg) {
				if (x < x0) x0 = x; if (x > x1) x1 = x
				if (y < y0) y0 = y; if (y > y1) y1 = y
			}
		}
		p++
	}
	END {
		if (img) check()
		if (img != 2) { print img " images, expected 2"; bad = 1 }
		exit bad
	}' || { echo "$f.ppm"; return 1; }
	done
}

@test "eval-real: an NIH cell lies on its photo's plasma, and on the fixed one" {
	local k=$BATS_FILE_TMPDIR/keep t=$BATS_TEST_TMPDIR
	head -n 1 "$k/nih/cells.tsv" | grep -q "^id	truth	called	votes	pixels	plasma	called_fixed	votes_fixed$"
	# the canvases: the fixed pinkish grey, and the colour the table names
	pnmtoplainpnm "$k/nih/images-fixed.ppm" | awk '$0 == "P3" { getline; getline; getline; print $1, $2, $3 }' >"$t/fixed"
	printf '225 215 212\n225 215 212\n' | cmp - "$t/fixed"
	pnmtoplainpnm "$k/nih/images.ppm" | awk '$0 == "P3" { getline; getline; getline; print $1, $2, $3 }' >"$t/own"
	awk -F'\t' 'NR > 1 { print $6 }' "$k/nih/cells.tsv" | while IFS=/ read -r r g b; do
		echo "$((0x$r)) $((0x$g)) $((0x$b))"; done >"$t/named"
	cmp "$t/own" "$t/named"
	# over it, each cell's median colour (its pixels of alpha >= 128, by
	# sort) is the real smears' red-cell / plasma ratio, 0.85 0.73 0.81,
	# within the rounding of the canvas to whole levels
	pamsplit "$BATS_FILE_TMPDIR/nih.pam" "$t/s%d.pam" 2>/dev/null
	paste -d' ' <(for i in 0 1; do
		for c in 1 2 3; do
			pamtable "$t/s$i.pam" | tr '|' '\n' |
			    awk -v c=$c 'NF == 4 && $4 >= 128 { print $c }' | sort -n |
			    awk '{ v[NR] = $1 } END { printf "%s ", v[int((NR + 1) / 2)] }'
		done; echo; done) "$t/own" | awk '
	{
		split("0.85 0.73 0.81", q, " ")
		for (c = 1; c <= 3; c++) {
			r = $c / $(c + 3)
			if (r - q[c] > 0.005 || q[c] - r > 0.005) {
				print "cell " NR ", channel " c ": median " $c \
				    " over plasma " $(c + 3) " = " r ", not " q[c]
				bad = 1
			}
		}
	}
	END { exit bad || NR != 2 }'
}

@test "eval-real: an NIH sample without a cell pixel stops it, naming the sample" {
	local T=$BATS_TEST_TMPDIR
	mkdir -p "$T/ds"
	# a 2x2 sample whose alpha is 0 everywhere
	{ printf 'P7\nWIDTH 2\nHEIGHT 2\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\n'
	  printf '#class: Healthy RBC\n#source: nih\n#id: nih/Uninfected/x\n#scale: 0.29\nENDHDR\n'
	  head -c 16 /dev/zero; } >"$T/ds/samples.val.pam"
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -S val -s "$T" \
	    -d "$T/ds" "$BATS_FILE_TMPDIR/m.st"
	[ "$status" -ne 0 ]
	[[ "$output" != *"nih_"* ]]
	[ "${stderr_lines[-1]}" = "eval-real.sh: $T/ds/samples.val.pam: image 1: no cell pixel" ]
}

@test "eval-real: a missing model is one error line" {
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" "$BATS_TEST_TMPDIR/none.st"
	assert_fails_cleanly "eval-real.sh: $BATS_TEST_TMPDIR/none.st: no such model file"
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh"
	assert_fails_cleanly "usage: sh pipelines/eval-real.sh"
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -n x "$BATS_FILE_TMPDIR/m.st"
	assert_fails_cleanly "-n x: expected a positive integer"
}

@test "eval-real: several models are scored as one ensemble" {
	t=$BATS_FILE_TMPDIR
	T=$BATS_TEST_TMPDIR
	unet-train -q -c "$TOP/share/unet-tiny.yaml" -t "$U/train.pam" \
	    -v "$U/val.pam" -e 2 -o "$T/m2.st"
	sh "$TOP/pipelines/eval-real.sh" -n 2 -s "$t/src" -d "$t/ds" \
	    -k "$T/keep" "$t/m.st" "$T/m2.st" >"$T/out" 2>/dev/null
	[ "$(cut -d' ' -f2 "$T/out")" = "$(cut -d' ' -f2 "$t/out")" ]
	# every part's maps are the ensemble's: unet-infer with both models,
	# then the vote
	for part in bccd crops nih; do
		unet-infer -q -j 2 -m "$t/m.st" -m "$T/m2.st" "$T/keep/$part/images.ppm" |
		    cell-vote -q | cmp - "$T/keep/$part/pred.pgm"
	done
	unet-infer -q -j 2 -m "$t/m.st" -m "$T/m2.st" "$T/keep/nih/images-fixed.ppm" |
	    cell-vote -q | cmp - "$T/keep/nih/pred-fixed.pgm"
	! cmp -s "$T/keep/bccd/pred.pgm" "$t/keep/bccd/pred.pgm"
	# BBBC041Seg too (its report is not kept: score it again alone)
	VOTE=1 sh "$TOP/pipelines/eval-bbbc041.sh" -m "$t/m.st" -m "$T/m2.st" \
	    "$t/src/eval_bbbc041seg" 0.32 "$T/bb" >"$T/bb.yaml"
	v=$(awk '/^iou:/ { s = 1 } s && $1 == "cell:" { printf "%.3f", $2; exit }' "$T/bb.yaml")
	grep -q "^eval: bbbc041_cell_iou $v\$" "$T/out"
	# a model twice is that model
	sh "$TOP/pipelines/eval-real.sh" -n 2 -s "$t/src" -d "$t/ds" \
	    "$t/m.st" "$t/m.st" 2>/dev/null | cmp - "$t/out"
	# models of different windows are refused by unet-infer, naming them
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -n 1 -s "$t/src" \
	    -d "$t/ds" "$t/m.st" "$TOP/share/models/default.safetensors"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"an ensemble needs one window size"* ]]
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" "$t/m.st" "$T/none.st"
	assert_fails_cleanly "eval-real.sh: $T/none.st: no such model file"
}

@test "eval-real: parts without their data are skipped, saying so" {
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -n 1 \
	    -s "$BATS_TEST_TMPDIR/empty" -d "$BATS_TEST_TMPDIR/empty" "$BATS_FILE_TMPDIR/m.st"
	[ "$status" -eq 0 ]
	[[ "$output" == *"eval: bccd_images 1"* ]]
	[[ "$output" != *"bbbc041_"* && "$output" != *"crops_"* ]]
	[[ "$output" != *"nih_"* && "$output" != *"synthetic_"* ]]
	[ "$(grep -c 'skipped$' <<<"$stderr")" -eq 4 ]
}

@test "eval-real: -S val scores the validation split alone, never the held-out sets" {
	t=$BATS_FILE_TMPDIR
	mkdir -p "$t/dsv"
	# the validation split: the test split's NIH cells and a red cell
	# of one BCCD smear of share/blocks (not a held-out one), so the
	# counts tell which split was read
	cp "$t/nih.pam" "$t/dsv/samples.val.pam"
	n=BloodImage_00003
	# its red-cell boxes, as pipelines/blocks.sh lists them (crop-cells
	# keeps those whose cell does not touch the box's edge)
	boxes=$(awk -f "$TOP/pipelines/voc.awk" "$B/bccd/Annotations/$n.xml" |
	    awk '$1 == "RBC" { printf " %d,%d,%d,%d", $2 - 1, $3 - 1, $4 - 1, $5 - 1 }')
	echo "bccd/$n.rbc bccd/$n Healthy_RBC$boxes" >"$t/l4"
	jpegtopnm -quiet "$B/bccd/JPEGImages/$n.jpg" |
	    crop-cells -q -M box -S bccd -s 0.36 -l "$t/l4" \
	    >>"$t/dsv/samples.val.pam"
	[ ! -f "$TOP/share/eval/bccd/Annotations/$n.xml" ]
	cp "$U/val.pam" "$t/dsv/val.pam"
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -n 2 -S val \
	    -s "$t/src" -d "$t/dsv" "$t/m.st"
	[ "$status" -eq 0 ]
	[[ "$output" != *"bbbc041_"* && "$output" != *"crops_"* ]]
	[[ "$stderr" == *"samples.val.pam: no pbc or zxaoyou white cell"* ]]
	[[ "$output" == *"eval: bccd_images 1"* ]]
	# every box of that smear, as its annotation has them
	nb=$(awk -f "$TOP/pipelines/voc.awk" "$B/bccd/Annotations/$n.xml" |
	    awk '$1 == "RBC"' | wc -l)
	[[ "$output" == *"eval: bccd_rbc_boxes $nb"* ]]
	[[ "$output" == *"eval: nih_n 2"* ]]
	[[ "$output" == *"eval: synthetic_tiles 2"* ]]
	[[ "$stderr" == *"BCCD: segmenting 1 smears"* ]]
	[[ "$stderr" == *"BBBC041Seg: held out, not scored with -S val"* ]]
	[[ "$stderr" == *"$t/dsv/val.pam"* ]]
	# a validation split without BCCD smears scores none
	cp "$t/nih.pam" "$t/dsv/samples.val.pam"
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -n 2 -S val \
	    -s "$t/src" -d "$t/dsv" "$t/m.st"
	[ "$status" -eq 0 ]
	[[ "$output" != *"bccd_"* ]]
	[[ "$stderr" == *"samples.val.pam: no BCCD smear in the val split, skipped"* ]]
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -S train "$t/m.st"
	assert_fails_cleanly "eval-real.sh: -S train: expected test or val"
}

@test "eval-real: -t segments with --tta, the same figures measured" {
	t=$BATS_FILE_TMPDIR
	run --separate-stderr sh "$TOP/pipelines/eval-real.sh" -n 2 -t \
	    -s "$t/src" -d "$t/ds" "$t/m.st"
	[ "$status" -eq 0 ]
	# the same names as the plain run, in the same order
	[ "$(printf '%s\n' "$output" | cut -d' ' -f2)" = "$(cut -d' ' -f2 "$t/out")" ]
	[[ "$output" == *"eval: bccd_images 2"* ]]
}

@test "eval-real: class maps go through cell-vote unless -R" {
	# the shipped model on one held-out smear, the other parts skipped:
	# its white cell comes out in more than one class, so the vote shows
	t=$BATS_TEST_TMPDIR
	mkdir -p "$t/empty"
	for f in -R ""; do
		sh "$TOP/pipelines/eval-real.sh" -n 1 $f -s "$t/empty" \
		    -d "$t/empty" -k "$t/keep$f" "$TOP/share/models/default.safetensors" \
		    >"$t/out$f" 2>/dev/null
	done
	[ "$(cut -d' ' -f2 "$t/out-R")" = "$(cut -d' ' -f2 "$t/out")" ]
	! cmp -s "$t/keep-R/bccd/pred.pgm" "$t/keep/bccd/pred.pgm"
	cell-vote -q "$t/keep-R/bccd/pred.pgm" | cmp - "$t/keep/bccd/pred.pgm"
}
