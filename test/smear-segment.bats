#!/usr/bin/env bats
# This script tests: smear-segment, make install (the installed programs
#   find the share directory, the model, the configs and the pipelines)
# Also requires: netpbm (jpegtopnm, pamcut, pnmtojpeg, pamtopng, ppmtobmp,
#   pamscale, pamfile, pnmnoraw), make, unet-infer, smear-scale,
#   cell-count, colorize

load test_helper

BCCD=$TOP/share/eval/bccd/JPEGImages

setup_file() {
	# three small smears, cut from held-out BCCD photos: a JPEG, a PNG
	# and a BMP
	d=$BATS_FILE_TMPDIR/smears
	mkdir -p "$d"
	jpegtopnm "$BCCD/BloodImage_00005.jpg" 2>/dev/null | pamcut 0 0 400 300 >"$d/a.ppm"
	jpegtopnm "$BCCD/BloodImage_00136.jpg" 2>/dev/null | pamcut 100 80 400 300 >"$d/b.ppm"
	jpegtopnm "$BCCD/BloodImage_00271.jpg" 2>/dev/null | pamcut 200 100 400 300 >"$d/c.ppm"
	pnmtojpeg "$d/a.ppm" >"$d/one.jpg"
	pamtopng "$d/b.ppm" >"$d/two.png"
	ppmtobmp "$d/c.ppm" >"$d/three.bmp" 2>/dev/null
	mkdir -p "$BATS_FILE_TMPDIR/in"
	cp "$d/one.jpg" "$d/two.png" "$d/three.bmp" "$BATS_FILE_TMPDIR/in/"
	echo "not an image" >"$BATS_FILE_TMPDIR/in/notes.txt"
}

S() { echo "$BATS_FILE_TMPDIR/smears"; }
IN() { echo "$BATS_FILE_TMPDIR/in"; }

# The distinct values of a PGM, one per line, sorted.
values() { pnmnoraw "$1" | tail -n +4 | tr -s ' \n' '\n\n' | grep -v '^$' | sort -nu; }

@test "smear-segment: a folder of a JPEG, a PNG and a BMP, every output at the original size" {
	run --separate-stderr smear-segment -j 2 -o "$BATS_TEST_TMPDIR/out" "$(IN)"
	[ "$status" -eq 0 ]
	o=$BATS_TEST_TMPDIR/out
	for n in one two three; do
		for x in classes.png overlay.png pgm counts.yaml; do
			[ -s "$o/$n.$x" ] || { echo "no $n.$x"; false; }
		done
		[ -s "$o/thumbs/$n.png" ]
		pamfile "$o/$n.pgm" | grep -q "PGM raw, 400 by 300"
		pngtopam "$o/$n.classes.png" | pamfile | grep -q "PPM raw, 400 by 300"
		pngtopam "$o/$n.overlay.png" | pamfile | grep -q "PPM raw, 400 by 300"
		grep -q "^  - file: \"$n.pgm\"" "$o/$n.counts.yaml"
		grep -q "^    parasitemia: " "$o/$n.counts.yaml"
	done
	[ -s "$o/index.html" ] && [ -s "$o/legend.png" ]
	# progress and the scale of every image on standard error
	[[ "$stderr" == *"[3/3] "*"400x300, scale "*"left"* ]]
	# the summary: a header, a line per image and a total
	[ "$(wc -l <"$o/summary.tsv")" -eq 5 ]
	head -1 "$o/summary.tsv" | grep -q "^name	source	width	height	scale	scale_from	rbc_diameter	Eosinophil	.*	Healthy RBC	wbc	rbc	parasitemia	Eosinophil%	.*Monocyte%	warning$"
	grep -q "^one	$(IN)/one.jpg	400	300	0\.[0-9]*	" "$o/summary.tsv"
	tail -1 "$o/summary.tsv" | grep -q "^total	3 images	"
	# no temporary files left behind
	[ -z "$(find "$o" -name '.smear-segment*')" ]
}

@test "smear-segment: the class map is the model's, scaled back by nearest neighbour; --tta is unet-infer's" {
	run --separate-stderr smear-segment -q -t -s 0.36 -o "$BATS_TEST_TMPDIR/out" "$(S)/one.jpg"
	[ "$status" -eq 0 ]
	jpegtopnm "$(S)/one.jpg" 2>/dev/null | pamscale 0.36 | unet-infer -q --tta |
	    cell-vote -q >"$BATS_TEST_TMPDIR/small.pgm"
	pamscale -nomix -width 400 -height 300 "$BATS_TEST_TMPDIR/small.pgm" | cmp - "$BATS_TEST_TMPDIR/out/one.pgm"
	# no class that the model did not predict
	[ "$(values "$BATS_TEST_TMPDIR/out/one.pgm")" = "$(values "$BATS_TEST_TMPDIR/small.pgm")" ]
	grep -q "^one	.*	0.3600	scale	" "$BATS_TEST_TMPDIR/out/summary.tsv"
	# and the counts are those of the map at the model's scale
	(cd "$BATS_TEST_TMPDIR" && cp small.pgm one.pgm && cell-count one.pgm) |
	    cmp - "$BATS_TEST_TMPDIR/out/one.counts.yaml"
}

@test "smear-segment: several -m segment with their ensemble, named in the report" {
	M1=$TOP/share/models/default.safetensors M2=$TOP/share/models/v10.safetensors
	run --separate-stderr smear-segment -q -j 2 -s 0.36 -m "$M1" --model="$M2" \
	    -o "$BATS_TEST_TMPDIR/out" "$(S)/one.jpg"
	[ "$status" -eq 0 ]
	jpegtopnm "$(S)/one.jpg" 2>/dev/null | pamscale 0.36 >"$BATS_TEST_TMPDIR/small.ppm"
	unet-infer -q -j 2 -m "$M1" -m "$M2" "$BATS_TEST_TMPDIR/small.ppm" |
	    cell-vote -q >"$BATS_TEST_TMPDIR/small.pgm"
	pamscale -nomix -width 400 -height 300 "$BATS_TEST_TMPDIR/small.pgm" | cmp - "$BATS_TEST_TMPDIR/out/one.pgm"
	# not the first model's map alone
	unet-infer -q -j 2 -m "$M1" "$BATS_TEST_TMPDIR/small.ppm" | cell-vote -q |
	    pamscale -nomix -width 400 -height 300 >"$BATS_TEST_TMPDIR/one.pgm"
	! cmp -s "$BATS_TEST_TMPDIR/one.pgm" "$BATS_TEST_TMPDIR/out/one.pgm"
	grep -q "Models (an ensemble, their probabilities averaged): <code>$M1, $M2</code>" "$BATS_TEST_TMPDIR/out/index.html"
	# an unreadable second model writes nothing
	run --separate-stderr smear-segment -m "$M1" -m "$BATS_TEST_TMPDIR/none.st" \
	    -o "$BATS_TEST_TMPDIR/out2" "$(S)/one.jpg"
	assert_fails_cleanly "smear-segment: $BATS_TEST_TMPDIR/none.st: cannot read the model"
	[ ! -e "$BATS_TEST_TMPDIR/out2" ]
}

@test "smear-segment: --rbc-diameter gives the scale from the model's diameter" {
	run --separate-stderr smear-segment -q -r 76 -o "$BATS_TEST_TMPDIR/out" "$(S)/two.png"
	[ "$status" -eq 0 ]
	grep -q "^two	.*	0.5000	rbc-diameter	" "$BATS_TEST_TMPDIR/out/summary.tsv"
}

@test "smear-segment: a scale that disagrees with the red cells is warned about" {
	run --separate-stderr smear-segment -q -s 1 -o "$BATS_TEST_TMPDIR/out" "$(S)/one.jpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"smear-segment: $(S)/one.jpg: warning: at scale 1 the red cells measure "*" px across, the model expects about 38: check the scale"* ]]
	tail -2 "$BATS_TEST_TMPDIR/out/summary.tsv" | head -1 | grep -q "check the scale"
	grep -q "warning: at scale 1" "$BATS_TEST_TMPDIR/out/index.html"
}

@test "smear-segment: a photo without red cells to measure takes the median scale of its size" {
	mkdir "$BATS_TEST_TMPDIR/in"
	cp "$BCCD/BloodImage_00005.jpg" "$BCCD/BloodImage_00136.jpg" "$BCCD/BloodImage_00271.jpg" "$BATS_TEST_TMPDIR/in/"
	ppmmake '#e0e0f0' 640 480 | pnmtojpeg >"$BATS_TEST_TMPDIR/in/plasma.jpg"
	run --separate-stderr smear-segment -q -o "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	grep -q "^BloodImage_00005	.*	estimate	" "$BATS_TEST_TMPDIR/out/summary.tsv"
	m=$(grep '^BloodImage' "$BATS_TEST_TMPDIR/out/summary.tsv" | cut -f5 | sort -g | sed -n 2p)
	grep -q "^plasma	.*	$m	batch	0.0	.*took the median scale of the 3 other 640x480 photos" "$BATS_TEST_TMPDIR/out/summary.tsv"
	[[ "$stderr" == *"plasma.jpg: warning: too few red cells to measure: took the median scale"* ]]
}

@test "smear-segment: an unreadable image is reported and skipped, the others are made" {
	mkdir "$BATS_TEST_TMPDIR/in"
	cp "$(S)/one.jpg" "$(S)/two.png" "$BATS_TEST_TMPDIR/in/"
	head -c 300 "$(S)/two.png" >"$BATS_TEST_TMPDIR/in/broken.png"
	echo "plain text" >"$BATS_TEST_TMPDIR/in/text.jpg"
	run --separate-stderr smear-segment -q -o "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 2 ]
	o=$BATS_TEST_TMPDIR/out
	[ -s "$o/one.pgm" ] && [ -s "$o/two.pgm" ]
	[ -z "$(ls "$o" | grep -E '^(broken|text)\.')" ]
	[ ! -e "$o/thumbs/broken.png" ]
	[ "$(wc -l <"$o/summary.tsv")" -eq 4 ]
	[[ "$stderr" == *"smear-segment: $BATS_TEST_TMPDIR/in/broken.png: cannot decode it with pngtopam"*"; skipped"* ]]
	[[ "$stderr" == *"smear-segment: $BATS_TEST_TMPDIR/in/text.jpg: not an image this reads (PNG, JPEG, BMP, TIFF or Netpbm); skipped"* ]]
	[[ "$stderr" == *"smear-segment: 2 of 4 images failed"* ]]
	grep -q "broken.png" "$o/index.html"
}

@test "smear-segment: usage errors write nothing" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr smear-segment "$(S)/one.jpg"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "smear-segment: -o OUTDIR is required" ]
	[[ "${stderr_lines[1]}" == "usage: smear-segment "* ]]
	run --separate-stderr smear-segment -o out
	[ "${stderr_lines[0]}" = "smear-segment: no images named (files or directories)" ]
	run --separate-stderr smear-segment -s 1 -r 40 -o out "$(S)/one.jpg"
	[ "${stderr_lines[0]}" = "smear-segment: --scale and --rbc-diameter exclude each other" ]
	run --separate-stderr smear-segment -s x -o out "$(S)/one.jpg"
	[ "${stderr_lines[0]}" = "smear-segment: invalid scale 'x' (expected a number above 0)" ]
	run --separate-stderr smear-segment -j 0 -o out "$(S)/one.jpg"
	[ "${stderr_lines[0]}" = "smear-segment: invalid threads '0' (expected 1..1024)" ]
	[ "$status" -eq 1 ]
	[ ! -e out ]
}

@test "smear-segment: a missing input, an empty folder, a folder as the model" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr smear-segment -o out "$(S)/one.jpg" nosuch.png
	assert_fails_cleanly "smear-segment: nosuch.png: no such file or directory"
	mkdir empty
	run --separate-stderr smear-segment -o out empty
	assert_fails_cleanly "smear-segment: empty: no image files (PNG, JPEG, BMP, TIFF, Netpbm) in this directory"
	run --separate-stderr smear-segment -m empty -o out "$(S)/one.jpg"
	assert_fails_cleanly "smear-segment: empty: is a directory, expected a model file"
	touch out
	run --separate-stderr smear-segment -o out "$(S)/one.jpg"
	assert_fails_cleanly "smear-segment: out: exists and is not a directory"
	[ ! -s out ]
	rm out
	# (bats keeps its stderr files here too)
	[ -z "$(ls | grep -v -e '^empty$' -e '^separate-stderr-')" ]
}

@test "make install: the installed smear-segment runs from another directory on a folder of a JPEG, a PNG and a BMP" {
	p=$BATS_TEST_TMPDIR/prefix
	run make -C "$TOP" --no-print-directory -s install PREFIX="$p"
	[ "$status" -eq 0 ]
	for f in bin/smear-segment bin/unet-infer bin/smear-scale share/man/man1/smear-segment.1 \
	    share/man/man1/smear-scale.1 share/smearseg/classes.yaml share/smearseg/unet.yaml \
	    share/smearseg/models/default.safetensors share/smearseg/pipelines/eval-real.sh; do
		[ -e "$p/$f" ] || { echo "not installed: $f"; false; }
	done
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	cd "$BATS_TEST_TMPDIR/elsewhere"
	# nothing of the source tree: the installed programs alone
	run --separate-stderr env -u SMEARSEG_SHARE PATH="$p/bin:/usr/bin:/bin" \
	    smear-segment -q -o out "$(IN)"
	[ "$status" -eq 0 ]
	for n in one two three; do [ -s "out/$n.overlay.png" ]; done
	[ "$(wc -l <out/summary.tsv)" -eq 5 ]
	grep -q "$p/share/smearseg/models/default.safetensors" out/index.html
	# the installed unet-infer finds the default model, unet-train the configs
	run env -u SMEARSEG_SHARE PATH="$p/bin:/usr/bin:/bin" sh -c \
	    "jpegtopnm '$(S)/one.jpg' 2>/dev/null | pamscale 0.36 | unet-infer -q | pamfile"
	[[ "$output" == *"PGM raw, 144 by 108"* ]]
	run env -u SMEARSEG_SHARE PATH="$p/bin:/usr/bin:/bin" unet-train -c unet-tiny.yaml -t none.pam -v none.pam -o m.st
	[ "$status" -eq 1 ]
	[[ "$output" == "unet-train: none.pam: No such file or directory"* ]]
	# where the build has a CUDA backend, it is installed, and the
	# installed unet-infer loads that one
	b=${SMEARSEG_BUILD:-build}
	case $b in /*) ;; *) b=$TOP/$b ;; esac
	if [ -f "$b/libsmearseg-cuda.so" ]; then
		[ -f "$p/lib/smearseg/libsmearseg-cuda.so" ]
		LD_DEBUG=files env -u SMEARSEG_SHARE PATH="$p/bin:/usr/bin:/bin" \
		    unet-infer -d cuda "$(S)/one.jpg" 2>"$BATS_TEST_TMPDIR/ld" || true
		grep -q "file=$p/bin/../lib/smearseg/libsmearseg-cuda.so" "$BATS_TEST_TMPDIR/ld"
	fi
}
