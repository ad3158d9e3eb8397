#!/usr/bin/env bats
# This script tests: label-smear
# Also requires: netpbm (pamchannel, pamcut, pamflip, pamfile, pamtopnm,
#   pgmmake, jpegtopnm), awk, perl (test/fixtures/split-dataset/pammeta.pl)
#
# Fixtures (test/fixtures/label-smear/): photo.discs describes a small
# synthetic smear (red cells, one with a pale centre, a white cell, an
# unboxed platelet on a noisy plasma), mkphoto.awk paints it, photo.list
# gives its boxes, and checklabel.awk checks a label map against the
# discs.  The last test runs on real BCCD photos from share/blocks/bccd
# when they are there.

load test_helper

setup() {
	F=$FIXTURES/label-smear
	META=$FIXTURES/split-dataset/pammeta.pl
	T=$BATS_TEST_TMPDIR
	awk -v w=160 -v h=120 -f "$F/mkphoto.awk" "$F/photo.discs" >"$T/photo.ppm"
	# the Healthy RBC index of the class table
	RBC=$(sed -n 's/.*index: *\([0-9]*\), *name: *Healthy RBC,.*/\1/p' \
	    "$SMEARSEG_SHARE/classes.yaml")
	# and its White cell partial label
	PART=$(sed -n 's/.*index: *\([0-9]*\), *name: *White cell,.*/\1/p' \
	    "$SMEARSEG_SHARE/classes.yaml")
}

# check_label PAM SCALE [PART]: the checklabel.awk line for the label of
# PAM, the white cell labelled PART (default: the White cell label).
check_label() {
	pamchannel -tupletype GRAYSCALE 3 <"$1" | pamtopnm -plain |
	    awk -v rbc="$RBC" -v part="${3:-$PART}" -v scale="$2" -f "$F/checklabel.awk" \
	    "$F/photo.discs" "$F/photo.list" -
}

@test "label-smear: red cells, plasma, a white cell of no type, an ignored platelet" {
	[ "$RBC" -eq 9 ]
	[ "$PART" -eq 254 ]
	label-smear -q -m 0 -S synth -l "$F/photo.list" "$T/photo.ppm" >"$T/out.pam"
	[ "$(pamfile "$T/out.pam")" = "$T/out.pam:	PAM, 160 by 120 by 4 maxval 255
    Tuple type: RGB_LABEL" ]
	[ "$(check_label "$T/out.pam" 1)" = "values 0,9,254,255 rbc-bad 0 ignore-bad 0 plasma-bad 0 part-bad 0" ]
	[ "$(perl "$META" kind "$T/out.pam")" = real ]
	[ "$(perl "$META" id "$T/out.pam")" = synth/1 ]
	[ "$(perl "$META" group "$T/out.pam")" = synth ]
	[ "$(perl "$META" source "$T/out.pam")" = synth ]
	[ "$(perl "$META" rbc_boxes "$T/out.pam")" = 4 ]
	[ "$(perl "$META" rbc_covered "$T/out.pam")" = 4 ]
	[ "$(perl "$META" wbc_boxes "$T/out.pam")" = 1 ]
	# the picture is the photo itself at scale 1
	pamchannel -tupletype RGB 0 1 2 <"$T/out.pam" | pamtopnm >"$T/rgb.ppm"
	pamtopnm <"$T/photo.ppm" >"$T/raw.ppm"
	cmp "$T/rgb.ppm" "$T/raw.ppm"
}

@test "label-smear: -P leaves the white cell's box ignored, with no partial label" {
	label-smear -q -m 0 -P -l "$F/photo.list" "$T/photo.ppm" >"$T/np.pam"
	[ "$(check_label "$T/np.pam" 1 255)" = "values 0,9,255 rbc-bad 0 ignore-bad 0 plasma-bad 0 part-bad 0" ]
	[ "$(perl "$META" partial "$T/np.pam")" = 0.000 ]
	label-smear -q -m 0 -l "$F/photo.list" "$T/photo.ppm" >"$T/p.pam"
	# the white cell (a disc of radius 25 in 160x120) is about 10%
	awk -v s="$(perl "$META" partial "$T/p.pam")" \
	    'BEGIN { exit !(s >= 0.08 && s <= 0.11) }'
	# only the box's pixels differ
	[ "$(pamchannel -tupletype RGB 0 1 2 <"$T/p.pam" | pamtopnm | cksum)" = \
	    "$(pamchannel -tupletype RGB 0 1 2 <"$T/np.pam" | pamtopnm | cksum)" ]
}

@test "label-smear: a class table without the partial labels ignores the boxes" {
	mkdir -p "$T/share"
	sed '/^partial:/,$d' "$SMEARSEG_SHARE/classes.yaml" >"$T/share/classes.yaml"
	SMEARSEG_SHARE=$T/share label-smear -q -m 0 -l "$F/photo.list" \
	    "$T/photo.ppm" >"$T/nt.pam"
	[ "$(check_label "$T/nt.pam" 1 255)" = "values 0,9,255 rbc-bad 0 ignore-bad 0 plasma-bad 0 part-bad 0" ]
}

# part_px PAM: the pixels of the White cell partial label, and how many
# of them lie outside the wbc box of photo.list (93,13 to 143,63) grown
# by 8 px (label-smear grows it by 15 % of its side for the whole cell)
part_px() {
	pamchannel -tupletype GRAYSCALE 3 <"$1" | pamtopnm -plain |
	    tr -s ' \n' '\n\n' | awk -v part="$PART" '
	NR == 2 { w = $1 } NR <= 4 { next }
	$1 == part {
		n++; p = NR - 5; x = p % w; y = int(p / w)
		out += x < 85 || x > 151 || y < 5 || y > 71
	}
	END { print n + 0, out + 0 }'
}

@test "label-smear: -W labels the whole white cell, cytoplasm too; without it the nucleus alone" {
	# the photo with a pale cytoplasm, too little purple to pass for a
	# nucleus, as in BCCD's neutrophils
	sed 's/^wbc 165 135 205/wbc 185 175 200/' "$F/photo.discs" >"$T/pale.discs"
	awk -v w=160 -v h=120 -f "$F/mkphoto.awk" "$T/pale.discs" >"$T/pale.ppm"
	label-smear -q -m 0 -W -l "$F/photo.list" "$T/pale.ppm" >"$T/w.pam"
	label-smear -q -m 0 -l "$F/photo.list" "$T/pale.ppm" >"$T/n.pam"
	# the white cell: a disc of radius 25 (area 1963) around a nucleus
	# of radius 12 (area 452)
	set -- $(part_px "$T/w.pam")
	[ "$2" -eq 0 ]
	[ "$1" -ge 1700 ] && [ "$1" -le 2400 ]
	set -- $(part_px "$T/n.pam")
	[ "$1" -ge 300 ] && [ "$1" -le 700 ]
	[ "$(perl "$META" wbc_whole "$T/w.pam")" = 1 ]
	[ "$(perl "$META" wbc_nucleus "$T/w.pam")" = 0 ]
	# without -W the counts are not written
	[ "$(perl "$META" wbc_whole "$T/n.pam")" = - ]
	# red cells and plasma are labelled as without -W
	[ "$(check_label "$T/w.pam" 1)" = "values 0,9,254,255 rbc-bad 0 ignore-bad 0 plasma-bad 0 part-bad 0" ]
	label-smear -m 0 -W -l "$F/photo.list" "$T/pale.ppm" 2>"$T/err" >/dev/null
	grep -q '^label-smear: white cells: 1 whole, 0 by the nucleus alone' "$T/err"
}

@test "label-smear: -W falls back to the nucleus when the cell does not fit its box" {
	# a box around the nucleus alone: the whole cell is mostly outside it
	sed 's/^wbc 165 135 205/wbc 185 175 200/' "$F/photo.discs" >"$T/pale.discs"
	awk -v w=160 -v h=120 -f "$F/mkphoto.awk" "$T/pale.discs" >"$T/pale.ppm"
	sed 's/wbc:93,13,143,63/wbc:105,25,131,51/' "$F/photo.list" >"$T/small.list"
	label-smear -q -m 0 -W -l "$T/small.list" "$T/pale.ppm" >"$T/s.pam"
	[ "$(perl "$META" wbc_whole "$T/s.pam")" = 0 ]
	[ "$(perl "$META" wbc_nucleus "$T/s.pam")" = 1 ]
	set -- $(part_px "$T/s.pam")
	[ "$1" -ge 300 ] && [ "$1" -le 700 ]
}

@test "label-smear: the label is decided at the scaled size" {
	# the photo at twice the 40x scale, its boxes doubled, and back
	awk -v w=320 -v h=240 -v k=2 -f "$F/mkphoto.awk" "$F/photo.discs" \
	    >"$T/double.ppm"
	awk '/^#/ { next } { for (i = 3; i <= NF; i++) {
		split($i, p, /[:,]/)
		$i = p[1] ":" 2 * p[2] "," 2 * p[3] "," 2 * p[4] + 1 "," \
		    2 * p[5] + 1 } print }' "$F/photo.list" >"$T/double.list"
	label-smear -q -m 0 -s 0.5 -l "$T/double.list" "$T/double.ppm" >"$T/half.pam"
	[ "$(perl "$META" unpadded "$T/half.pam")" = 160x120 ]
	[ "$(perl "$META" rbc_covered "$T/half.pam")" = 4 ]
	[ "$(check_label "$T/half.pam" 1)" = "values 0,9,254,255 rbc-bad 0 ignore-bad 0 plasma-bad 0 part-bad 0" ]
}

# label_at PAM X Y: the label value of pixel (X, Y).
label_at() {
	pamcut -left "$2" -top "$3" -width 1 -height 1 "$1" |
	    pamchannel -tupletype GRAYSCALE 3 | pamtopnm -plain | tail -1 |
	    tr -d ' '
}

@test "label-smear: pieces too small for a red cell are ignored" {
	# a red cell, grey debris of a red cell's tenth, and a red cell cut
	# by the left edge of the photo
	awk -v w=160 -v h=120 -f "$F/mkphoto.awk" >"$T/debris.ppm" <<-EOF
	rbc 198 150 158 40 40 18
	debris 120 120 120 110 40 6
	rbc 198 150 158 -12 90 20
	EOF
	echo 'd d' >"$T/debris.list"
	label-smear -q -m 0 -l "$T/debris.list" "$T/debris.ppm" >"$T/debris.pam"
	[ "$(label_at "$T/debris.pam" 40 40)" = "$RBC" ]
	[ "$(label_at "$T/debris.pam" 110 40)" = 255 ]
	[ "$(label_at "$T/debris.pam" 2 90)" = "$RBC" ]
	[ "$(label_at "$T/debris.pam" 130 100)" = 0 ]
}

@test "label-smear: a thin ignore band along the red cells' edges" {
	label-smear -q -m 0 -b 1 -l "$F/photo.list" "$T/photo.ppm" >"$T/band.pam"
	[ "$(check_label "$T/band.pam" 1)" = "values 0,9,254,255 rbc-bad 0 ignore-bad 0 plasma-bad 0 part-bad 0" ]
	label-smear -q -m 0 -l "$F/photo.list" "$T/photo.ppm" >"$T/plain.pam"
	a=$(perl "$META" ignored "$T/plain.pam")
	b=$(perl "$META" ignored "$T/band.pam")
	awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a + 0.02) }'
}

@test "label-smear: mirror padding to the minimum size, picture and label alike" {
	label-smear -q -m 0 -l "$F/photo.list" "$T/photo.ppm" >"$T/small.pam"
	label-smear -q -m 200 -l "$F/photo.list" "$T/photo.ppm" >"$T/pad.pam"
	[ "$(pamfile "$T/pad.pam")" = "$T/pad.pam:	PAM, 200 by 200 by 4 maxval 255
    Tuple type: RGB_LABEL" ]
	[ "$(perl "$META" unpadded "$T/pad.pam")" = 160x120 ]
	# the photo keeps its place at the top left
	pamcut -left 0 -top 0 -width 160 -height 120 "$T/pad.pam" >"$T/tl.pam"
	pamcut -left 0 -top 0 -width 160 -height 120 "$T/small.pam" >"$T/ref.pam"
	cmp "$T/tl.pam" "$T/ref.pam"
	# right margin: columns 160..199 mirror columns 159..120
	pamcut -left 160 -width 40 -top 0 -height 120 "$T/pad.pam" |
	    pamflip -lr >"$T/r.pam"
	pamcut -left 120 -width 40 -top 0 -height 120 "$T/pad.pam" >"$T/rref.pam"
	cmp "$T/r.pam" "$T/rref.pam"
	# bottom margin: rows 120..199 mirror rows 119..40, corner included
	pamcut -top 120 -height 80 "$T/pad.pam" | pamflip -tb >"$T/b.pam"
	pamcut -top 40 -height 80 "$T/pad.pam" >"$T/bref.pam"
	cmp "$T/b.pam" "$T/bref.pam"
	# the mirrored label planes on their own
	pamchannel -tupletype GRAYSCALE 3 <"$T/b.pam" >"$T/bl.pam"
	pamchannel -tupletype GRAYSCALE 3 <"$T/bref.pam" >"$T/blref.pam"
	cmp "$T/bl.pam" "$T/blref.pam"
	# a side already at the minimum is left alone
	label-smear -q -m 120 -l "$F/photo.list" "$T/photo.ppm" >"$T/same.pam"
	cmp "$T/same.pam" "$T/small.pam"
}

@test "label-smear: one image per photo, in list order, a summary on stderr" {
	cat "$T/photo.ppm" "$T/photo.ppm" >"$T/two.ppm"
	printf 'a g1 wbc:93,13,143,63\n# a comment\n\nb g2\n' >"$T/two.list"
	run --separate-stderr label-smear -m 0 -l "$T/two.list" "$T/two.ppm"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "label-smear: 2 photos: red cell "*"%, plasma "*"%, ignore "*"% (before padding); 0 of 0 scored RBC boxes covered" ]]
	label-smear -q -m 0 -l "$T/two.list" <"$T/two.ppm" >"$T/two.pam"
	[ "$(perl "$META" id "$T/two.pam" | tr '\n' ' ')" = "a b " ]
	[ "$(perl "$META" group "$T/two.pam" | tr '\n' ' ')" = "g1 g2 " ]
	[ "$(perl "$META" wbc_boxes "$T/two.pam" | tr '\n' ' ')" = "1 0 " ]
}

@test "label-smear: bad input fails with one line and writes nothing" {
	cat "$T/photo.ppm" "$T/photo.ppm" >"$T/two.ppm"
	run --separate-stderr label-smear -l "$F/photo.list" "$T/two.ppm"
	assert_fails_cleanly "two.ppm: has more photos than $F/photo.list has lines (1)"
	printf 'a a\nb b\n' >"$T/l2"
	run --separate-stderr label-smear -l "$T/l2" "$T/photo.ppm"
	assert_fails_cleanly "l2: has 2 lines, the stream only 1 photo"
	echo 'a a wbc:100,100,160,110' >"$T/out"
	run --separate-stderr label-smear -l "$T/out" "$T/photo.ppm"
	assert_fails_cleanly "out:1: box 1 (wbc:100,100,160,110) is outside the 160x120 photo 'a'"
	echo 'a a neutrophil:1,1,5,5' >"$T/kind"
	run --separate-stderr label-smear -l "$T/kind" "$T/photo.ppm"
	assert_fails_cleanly "kind:1: unknown kind 'neutrophil' in box 'neutrophil:1,1,5,5' (expected rbc, wbc or platelet)"
	echo 'a a rbc:1,1,5' >"$T/short"
	run --separate-stderr label-smear -l "$T/short" "$T/photo.ppm"
	assert_fails_cleanly "short:1: bad box 'rbc:1,1,5'"
	echo 'a a rbc:+1,1,5,5' >"$T/sign"
	run --separate-stderr label-smear -l "$T/sign" "$T/photo.ppm"
	assert_fails_cleanly "sign:1: bad box 'rbc:+1,1,5,5' (expected KIND:xmin,ymin,xmax,ymax)"
	echo 'a a rbc:9,1,5,5' >"$T/rev"
	run --separate-stderr label-smear -l "$T/rev" "$T/photo.ppm"
	assert_fails_cleanly "rev:1: bad box 'rbc:9,1,5,5': xmin > xmax"
	printf 'a a\nb b\na c\n' >"$T/dup"
	run --separate-stderr label-smear -l "$T/dup" "$T/photo.ppm"
	assert_fails_cleanly "dup:3: id 'a' is also on line 1"
	echo 'a' >"$T/nogroup"
	run --separate-stderr label-smear -l "$T/nogroup" "$T/photo.ppm"
	assert_fails_cleanly "nogroup:1: expected 'ID GROUP [BOX...]'"
	printf 'a a\n' >"$T/one"
	pgmmake 0.5 40 30 >"$T/gray.pgm"
	run --separate-stderr label-smear -l "$T/one" "$T/gray.pgm"
	assert_fails_cleanly "gray.pgm: image 1: expected RGB"
	: >"$T/empty.ppm"
	run --separate-stderr label-smear -l "$T/one" "$T/empty.ppm"
	assert_fails_cleanly "empty stream"
	: >"$T/nolines"
	run --separate-stderr label-smear -l "$T/nolines" "$T/photo.ppm"
	assert_fails_cleanly "nolines: no lines"
	# a bad photo late in the stream: nothing of the first is written
	cat "$T/photo.ppm" "$T/gray.pgm" >"$T/late.pnm"
	run --separate-stderr label-smear -l "$T/l2" "$T/late.pnm"
	assert_fails_cleanly "late.pnm: image 2: expected RGB"
}

@test "label-smear: misuse prints the usage" {
	run --separate-stderr label-smear "$T/photo.ppm"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "label-smear: no --list (the ids, groups and boxes)" ]
	[[ "${stderr_lines[1]}" == "usage: label-smear "* ]]
	run --separate-stderr label-smear -l "$F/photo.list" -s 0 "$T/photo.ppm"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid scale '0'"* ]]
	run --separate-stderr label-smear -l "$F/photo.list" -m -1 "$T/photo.ppm"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"minimum size"* ]]
	run --separate-stderr label-smear -l - -
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot both be stdin"* ]]
	[ -z "$output" ]
	run --separate-stderr label-smear -W -P -l "$F/photo.list" "$T/photo.ppm"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "label-smear: --whole-cell labels white cells, --no-partial labels none: give one of them" ]
	[ -z "$output" ]
}

@test "label-smear: real BCCD photos: most red-cell boxes covered" {
	d=$SMEARSEG_SHARE/blocks/bccd
	[ -d "$d/Annotations" ] && [ -d "$d/JPEGImages" ] || skip "no BCCD photos in share/blocks/bccd"
	command -v jpegtopnm >/dev/null || skip "no jpegtopnm"
	n=0
	: >"$T/bccd.list"
	for a in "$d"/Annotations/*.xml; do
		b=${a##*/}; b=${b%.xml}
		[ -f "$d/JPEGImages/$b.jpg" ] || continue
		awk -v id="bccd/$b" '
		function c(v) { return v > 0 ? v - 1 : 0 }
		function kind(n) {
		    if (n == "RBC") return "rbc"
		    if (n == "WBC") return "wbc"
		    return n == "Platelets" ? "platelet" : n }
		/<name>/ { k = $0; gsub(/.*<name>|<\/name>.*/, "", k) }
		/<xmin>/ { x0 = $0; gsub(/[^0-9]/, "", x0) }
		/<ymin>/ { y0 = $0; gsub(/[^0-9]/, "", y0) }
		/<xmax>/ { x1 = $0; gsub(/[^0-9]/, "", x1) }
		/<ymax>/ { y1 = $0; gsub(/[^0-9]/, "", y1) }
		/<\/object>/ {
		    s = s " " kind(k) ":" c(x0) "," c(y0) "," c(x1) "," c(y1) }
		END { print id, id s }' "$a" >>"$T/bccd.list"
		jpegtopnm -quiet "$d/JPEGImages/$b.jpg" >>"$T/bccd.ppm"
		n=$((n + 1))
		[ "$n" -lt 5 ] || break
	done
	[ "$n" -gt 0 ] || skip "no BCCD photo with its annotation"
	label-smear -q -s 0.36 -S bccd -l "$T/bccd.list" "$T/bccd.ppm" >"$T/bccd.pam"
	[ "$(perl "$META" unpadded "$T/bccd.pam" | sort -u)" = 230x173 ]
	[ "$(pamfile -count "$T/bccd.pam")" = "$T/bccd.pam:	$n images" ]
	covered=$(perl "$META" rbc_covered "$T/bccd.pam" | awk '{ s += $1 } END { print s }')
	scored=$(perl "$META" rbc_scored "$T/bccd.pam" | awk '{ s += $1 } END { print s }')
	awk -v c="$covered" -v s="$scored" 'BEGIN { exit !(s > 0 && c >= 0.85 * s) }'
	# labels only 0, Healthy RBC, the two partial labels and 255; each
	# photo has plasma, red cells and ignore, and the photos together
	# both partial labels (a platelet too faint to be a purple blob
	# stays ignored)
	PLT=$(sed -n 's/.*index: *\([0-9]*\), *name: *Platelet,.*/\1/p' \
	    "$SMEARSEG_SHARE/classes.yaml")
	[ "$PLT" -eq 253 ]
	pamchannel -tupletype GRAYSCALE 3 <"$T/bccd.pam" >"$T/labels.pam"
	(cd "$T" && pamsplit labels.pam lab_%d.pam 2>/dev/null)
	: >"$T/partials"
	for f in "$T"/lab_*.pam; do
		pamtopnm -plain "$f" | awk -v rbc="$RBC" -v wbc="$PART" \
		    -v plt="$PLT" '
		    { for (i = 1; i <= NF; i++) tok[++n] = $i }
		    END { for (i = 5; i <= n; i++) seen[tok[i]] = 1
			for (v in seen) if (v != 0 && v != rbc && v != 255 &&
			    v != wbc && v != plt) exit 1
			for (v in seen) if (v == wbc || v == plt) print v
			exit !((0 in seen) && (rbc in seen) && (255 in seen)) }' \
		    >>"$T/partials"
	done
	[ "$(sort -u "$T/partials" | paste -sd,)" = "$PLT,$PART" ]
}
