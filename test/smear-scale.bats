#!/usr/bin/env bats
# This script tests: smear-scale (and lib/rbcsize.c)
# Also requires: netpbm (jpegtopnm, pngtopam, pamscale, ppmmake), awk;
#   the BBBC041Seg smears in ../shared/data/sources when present

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/smear-scale
BCCD=$TOP/share/eval/bccd/JPEGImages
BBBC=${SMEARSEG_SOURCES:-$TOP/../shared/data/sources}/eval_bbbc041seg/images

# median of the numbers on standard input
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# within REL of WANT: GOT WANT REL
near() { awk -v g="$1" -v w="$2" -v r="$3" 'BEGIN { e = g / w - 1; exit !(e <= r && e >= -r) }'; }

@test "smear-scale: red cells of a known size, with pale centres, some touching" {
	awk -v D=40 -f "$F/discs.awk" >"$BATS_TEST_TMPDIR/d40.ppm"
	run --separate-stderr smear-scale --tsv "$BATS_TEST_TMPDIR/d40.ppm"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'file\timage\twidth\theight\trbc_diameter\trbc_cells\trbc_spread\tscale\tscale_from\tmodel_diameter\twarning')" ]
	set -- $(echo "${lines[1]}" | cut -f5,8-11)
	near "$1" 40 0.05
	near "$2" 0.95 0.05          # the model's 38 px over 40
	[ "$3" = estimate ] && [ "$4" = 38 ] && [ "$5" = - ]
	awk -v D=25 -f "$F/discs.awk" | pamscale 2 | smear-scale --tsv | tail -1 | cut -f5 >"$BATS_TEST_TMPDIR/d"
	near "$(cat "$BATS_TEST_TMPDIR/d")" 50 0.05
}

@test "smear-scale: BCCD smears at their native size: the median scale is within 10 % of 0.36" {
	for f in "$BCCD"/*.jpg; do jpegtopnm "$f" 2>/dev/null; done >"$BATS_TEST_TMPDIR/bccd.ppm"
	smear-scale -q --tsv "$BATS_TEST_TMPDIR/bccd.ppm" | tail -n +2 >"$BATS_TEST_TMPDIR/s.tsv"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/s.tsv")" -eq 40 ]
	m=$(cut -f8 "$BATS_TEST_TMPDIR/s.tsv" | median)
	echo "median scale $m"
	near "$m" 0.36 0.10
	# and three in four images within a quarter
	n=$(cut -f8 "$BATS_TEST_TMPDIR/s.tsv" | awk '$1 >= 0.27 && $1 <= 0.45' | wc -l)
	[ "$n" -ge 30 ]
}

@test "smear-scale: BBBC041Seg smears at their native size: within 10 % of 0.32" {
	[ -d "$BBBC" ] || skip "no BBBC041Seg smears (../shared/data/sources/eval_bbbc041seg)"
	for f in "$BBBC"/*.png; do pngtopam "$f"; done >"$BATS_TEST_TMPDIR/bbbc.ppm"
	smear-scale -q --tsv "$BATS_TEST_TMPDIR/bbbc.ppm" | tail -n +2 >"$BATS_TEST_TMPDIR/s.tsv"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/s.tsv")" -eq 6 ]
	m=$(cut -f8 "$BATS_TEST_TMPDIR/s.tsv" | median)
	echo "median scale $m"
	near "$m" 0.32 0.10
	for s in $(cut -f8 "$BATS_TEST_TMPDIR/s.tsv"); do near "$s" 0.32 0.25; done
}

@test "smear-scale: a smear already at the model's scale gives about 1" {
	for i in 00005 00136 00271; do
		jpegtopnm "$BCCD/BloodImage_$i.jpg" 2>/dev/null | pamscale 0.36
	done | smear-scale -q --tsv | tail -n +2 | cut -f8 | median >"$BATS_TEST_TMPDIR/m"
	near "$(cat "$BATS_TEST_TMPDIR/m")" 1 0.15
}

@test "smear-scale: no red cells: scale 1 and a warning, exit 0" {
	ppmmake '#e0e0f0' 300 200 >"$BATS_TEST_TMPDIR/empty.ppm"
	run --separate-stderr smear-scale "$BATS_TEST_TMPDIR/empty.ppm"
	[ "$status" -eq 0 ]
	[[ "$output" == *"scale: 1.0000"*"scale_from: none"*'warning: "too few red cells to measure (0 found)'* ]]
	[ "$stderr" = "smear-scale: $BATS_TEST_TMPDIR/empty.ppm: image 1: too few red cells to measure (0 found): taking scale 1, the model's own; give --scale or --rbc-diameter" ]
	run --separate-stderr smear-scale -q "$BATS_TEST_TMPDIR/empty.ppm"
	[ -z "$stderr" ]
}

@test "smear-scale: --scale and --rbc-diameter set the scale, and a wrong one is told" {
	awk -v D=40 -f "$F/discs.awk" >"$BATS_TEST_TMPDIR/d40.ppm"
	run --separate-stderr smear-scale --tsv -r 38 "$BATS_TEST_TMPDIR/d40.ppm"
	[ "$(echo "${lines[1]}" | cut -f8-11)" = "$(printf '1.0000\trbc-diameter\t38\t-')" ]
	run --separate-stderr smear-scale --tsv -s 0.5 "$BATS_TEST_TMPDIR/d40.ppm"
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[1]}" | cut -f8-9)" = "$(printf '0.5000\tscale')" ]
	[[ "$stderr" == *"image 1: at scale 0.5 the red cells measure 20 px across, the model expects about 38: check the scale" ]]
}

@test "smear-scale: the target comes from the model's pixel_scale" {
	M=$TOP/share/models/default.safetensors
	awk -v D=40 -f "$F/discs.awk" >"$BATS_TEST_TMPDIR/d40.ppm"
	smear-scale "$BATS_TEST_TMPDIR/d40.ppm" | grep -q '^model_diameter: 38$'
	# the same bytes but for the diameter (the header keeps its length)
	sed 's/about 38 px across/about 19 px across/' "$M" >"$BATS_TEST_TMPDIR/m19.st"
	run smear-scale --tsv -m "$BATS_TEST_TMPDIR/m19.st" "$BATS_TEST_TMPDIR/d40.ppm"
	[ "$status" -eq 0 ]
	near "$(echo "${lines[1]}" | cut -f8)" 0.475 0.05
	sed 's/about 38 px across/near 38 pixel wide/' "$M" >"$BATS_TEST_TMPDIR/mx.st"
	run --separate-stderr smear-scale -m "$BATS_TEST_TMPDIR/mx.st" "$BATS_TEST_TMPDIR/d40.ppm"
	assert_fails_cleanly "smear-scale: $BATS_TEST_TMPDIR/mx.st: pixel_scale '40x: a healthy red cell is near 38 pixel wide' gives no red-cell diameter"
}

@test "smear-scale: errors" {
	run --separate-stderr smear-scale -s 1 -r 30
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "smear-scale: --scale and --rbc-diameter exclude each other" ]
	run --separate-stderr smear-scale -s 0
	[ "$status" -eq 1 ]
	[[ "${stderr_lines[0]}" == "smear-scale: invalid scale '0'"* ]]
	run --separate-stderr smear-scale "$BCCD/BloodImage_00005.jpg"
	assert_fails_cleanly "smear-scale: $BCCD/BloodImage_00005.jpg: looks like a JPEG file: decode it with jpegtopnm"
	run --separate-stderr smear-scale -m "$TOP/share/classes.yaml" "$F/discs.awk"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "smear-scale: $TOP/share/classes.yaml: "* ]]
}
