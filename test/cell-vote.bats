#!/usr/bin/env bats
# This script tests: cell-vote
# Also requires: awk, netpbm (pamfile, pnmtopnm, pamstack, ppmmake)

load test_helper

# Classes (share/classes.yaml): 1-5 white cells (3 Neutrophil, 4
# Lymphocyte, 5 Monocyte), 6 Thrombocyte, 7 Platelet clump, 8 Infected
# RBC, 9 Healthy RBC.

# at FILE X Y: the class at (X, Y) of the first image of FILE
at() {
	pamtopnm -plain <"$1" | tr -s ' \n' '\n\n' | awk -v x="$2" -v y="$3" '
		NR == 2 { w = $1 } NR <= 4 { next }
		NR - 5 == y * w + x { print; exit }'
}

# hist FILE: "class:pixels" of the first image of FILE, by class
hist() {
	pamtopnm -plain <"$1" | tr -s ' \n' '\n\n' |
	    awk 'NR > 4 && NF { n[$1]++ } END { for (c in n) print c ":" n[c] }' |
	    sort -n | tr '\n' ' '
}

setup() {
	T=$BATS_TEST_TMPDIR
}

@test "cell-vote: a white cell of two types takes the type of most of its pixels" {
	mkmap 120 100 >"$T/m.pgm" <<-EOF
	3 50 50 30
	4 65 50 18
	EOF
	cell-vote "$T/m.pgm" >"$T/v.pgm" 2>"$T/err"
	stderr=$(cat "$T/err")
	[ "$(pamfile "$T/v.pgm")" = "$T/v.pgm:	PGM raw, 120 by 100  maxval 255" ]
	[ "$(at "$T/v.pgm" 65 50)" = 3 ]
	# every Lymphocyte pixel became Neutrophil, nothing else changed
	set -- $(hist "$T/m.pgm" | tr ':' ' ')
	[ "$1 $3 $5" = "0 3 4" ]
	[ "$(hist "$T/v.pgm")" = "0:$2 3:$(($4 + $6)) " ]
	[ "$stderr" = "cell-vote: 1 image: 1 objects, 0 red cells, 0 specks, $6 of 12000 pixels changed class" ]
}

@test "cell-vote: specks of red-cell pixels go to background; cut, large and mixed blobs stay" {
	mkmap 120 100 >"$T/m.pgm" <<-EOF
	# two specks: a Healthy and an Infected RBC blob, both under 250 px
	9 30 30 5
	8 80 30 6
	# a red cell of about 450 px, one cut by the border, and a small
	# Healthy RBC blob touching a Thrombocyte
	9 60 70 12
	9 2 90 6
	9 100 70 5
	6 107 70 3
	EOF
	cell-vote "$T/m.pgm" >"$T/v.pgm" 2>"$T/err"
	[ "$(at "$T/v.pgm" 30 30)" = 0 ]
	[ "$(at "$T/v.pgm" 80 30)" = 0 ]
	[ "$(at "$T/v.pgm" 60 70)" = 9 ]
	[ "$(at "$T/v.pgm" 2 90)" = 9 ]
	[ "$(at "$T/v.pgm" 100 70)" = 9 ]
	[ "$(at "$T/v.pgm" 107 70)" = 6 ]
	# exactly the two specks' pixels changed, to background
	speck8=$(pamtopnm -plain <"$T/m.pgm" | tr -s ' \n' '\n\n' | awk 'NR > 4 && $1 == 8' | wc -l)
	speck9=$(mkmap 120 100 <<<"9 30 30 5" | tr -s ' \n' '\n\n' | awk 'NR > 4 && $1 == 9' | wc -l)
	# the three red blobs left are red cells, healthy already
	[ "$(cat "$T/err")" = "cell-vote: 1 image: 1 objects, 3 red cells, 2 specks, $((speck8 + speck9)) of 12000 pixels changed class" ]
	# -s 0 keeps them; -s 50 keeps those of 50 px and more (both are)
	cell-vote -q -s 0 "$T/m.pgm" | cmp - <(pamtopnm <"$T/m.pgm")
	cell-vote -q -s 50 "$T/m.pgm" | cmp - <(pamtopnm <"$T/m.pgm")
	# -s 100 drops the 81-pixel speck but not the 113-pixel one
	cell-vote -q -s 100 "$T/m.pgm" >"$T/s.pgm"
	[ "$(at "$T/s.pgm" 30 30)" = 0 ]
	[ "$(at "$T/s.pgm" 80 30)" = 8 ]
}

@test "cell-vote: a ring of platelet pixels round a white cell joins it" {
	# a Lymphocyte of radius 26 inside a Thrombocyte ring 4 px wide
	mkmap 100 100 >"$T/m.pgm" <<-EOF
	6 50 50 30
	4 50 50 26
	EOF
	cell-vote -q "$T/m.pgm" >"$T/v.pgm"
	set -- $(hist "$T/m.pgm" | tr ':' ' ')
	[ "$1 $3 $5" = "0 4 6" ]
	[ "$(hist "$T/v.pgm")" = "0:$2 4:$(($4 + $6)) " ]
	# with the white cells alone voting, the ring stays
	cell-vote -q -g 'white cell' "$T/m.pgm" >"$T/w.pgm"
	cmp "$T/w.pgm" <(pamtopnm <"$T/m.pgm")
}

@test "cell-vote: touching cells are split and vote apart; -r 0 lets them vote as one" {
	# two white cells of radius 30 that overlap by 8 px: a Monocyte
	# (mostly) and a Neutrophil; and a small Neutrophil spot in the
	# Monocyte
	mkmap 160 80 >"$T/m.pgm" <<-EOF
	5 45 40 30
	3 97 40 30
	3 40 40 6
	EOF
	cell-vote -q "$T/m.pgm" >"$T/v.pgm"
	[ "$(at "$T/v.pgm" 40 40)" = 5 ]
	[ "$(at "$T/v.pgm" 25 40)" = 5 ]
	[ "$(at "$T/v.pgm" 110 40)" = 3 ]
	[ "$(at "$T/v.pgm" 120 40)" = 3 ]
	cell-vote -q -r 0 "$T/m.pgm" >"$T/one.pgm"
	[ "$(at "$T/one.pgm" 25 40)" = "$(at "$T/one.pgm" 120 40)" ]
}

@test "cell-vote: a platelet touching a white cell stays a platelet" {
	mkmap 120 100 >"$T/m.pgm" <<-EOF
	3 50 50 30
	6 86 50 7
	EOF
	cell-vote -q "$T/m.pgm" >"$T/v.pgm"
	[ "$(at "$T/v.pgm" 90 50)" = 6 ]
	[ "$(at "$T/v.pgm" 50 50)" = 3 ]
	# with the split off, the touching platelet is taken into the cell
	cell-vote -q -r 0 "$T/m.pgm" >"$T/r0.pgm"
	[ "$(at "$T/r0.pgm" 90 50)" = 3 ]
}

@test "cell-vote: with -i 0, red cells larger than a speck, background and ignored pixels never change" {
	mkmap 120 100 >"$T/m.pgm" <<-EOF
	9 30 30 20
	8 38 30 6
	9 90 70 20
	255 90 70 5
	3 60 60 8
	EOF
	cell-vote -q -i 0 "$T/m.pgm" >"$T/v.pgm"
	cmp "$T/v.pgm" <(pamtopnm <"$T/m.pgm")
	cell-vote -i 0 "$T/m.pgm" 2>&1 >/dev/null | grep -q "objects, 0 specks"
}

@test "cell-vote: each red cell is wholly infected from 0.15 of its pixels (-i), else healthy" {
	# three apart red cells of radius 19 (1,129 px) with an infected
	# spot: 0.25 (radius 9.5), 0.10 (radius 6), 0.64 (radius 15.2) of
	# the cell
	mkmap 200 80 >"$T/m.pgm" <<-EOF
	9 30 40 19
	8 30 40 9.5
	9 100 40 19
	8 100 40 6
	9 170 40 19
	8 170 40 15.2
	EOF
	cell-vote "$T/m.pgm" >"$T/v.pgm" 2>"$T/err"
	grep -q "objects, 3 red cells, 0 specks" "$T/err"
	[ "$(at "$T/v.pgm" 30 40)" = 8 ] && [ "$(at "$T/v.pgm" 45 40)" = 8 ]
	[ "$(at "$T/v.pgm" 100 40)" = 9 ] && [ "$(at "$T/v.pgm" 115 40)" = 9 ]
	[ "$(at "$T/v.pgm" 170 40)" = 8 ] && [ "$(at "$T/v.pgm" 185 40)" = 8 ]
	# no pixel changes but between the two red classes
	[ "$(hist "$T/v.pgm" | sed 's/ 8:[0-9]* 9:[0-9]*//')" = "$(hist "$T/m.pgm" | sed 's/ 8:[0-9]* 9:[0-9]*//')" ]
	# -i 0.5: a majority; -i 0.05: the 0.10 spot is enough
	cell-vote -q -i 0.5 "$T/m.pgm" >"$T/h.pgm"
	[ "$(at "$T/h.pgm" 45 40)" = 9 ] && [ "$(at "$T/h.pgm" 185 40)" = 8 ]
	cell-vote -q -i 0.05 "$T/m.pgm" >"$T/l.pgm"
	[ "$(at "$T/l.pgm" 115 40)" = 8 ]
}

@test "cell-vote: touching red cells vote apart" {
	# two red cells of radius 19 whose discs overlap by 6 px: the left
	# one with an infected spot of a fifth of it, the right one healthy
	mkmap 120 80 >"$T/m.pgm" <<-EOF
	9 40 40 19
	9 72 40 19
	8 34 40 9
	EOF
	cell-vote -q "$T/m.pgm" >"$T/v.pgm"
	[ "$(at "$T/v.pgm" 25 40)" = 8 ]
	[ "$(at "$T/v.pgm" 80 40)" = 9 ]
	# voting whole (-r 0), the spot is an eighth of the pair: healthy
	cell-vote -q -r 0 "$T/m.pgm" >"$T/w.pgm"
	[ "$(at "$T/w.pgm" 25 40)" = 9 ]
}

@test "cell-vote: every image of a stream, and the label plane of RGB_LABEL tiles" {
	mkmap 120 100 >"$T/a.pgm" <<-EOF
	3 50 50 30
	4 65 50 18
	EOF
	mkmap 120 100 >"$T/b.pgm" <<-EOF
	4 50 50 30
	5 65 50 18
	EOF
	{ pamtopnm <"$T/a.pgm"; pamtopnm <"$T/b.pgm"; } >"$T/ab.pgm"
	cell-vote -q "$T/ab.pgm" >"$T/v.pgm"
	[ "$(pamfile -count "$T/v.pgm")" = "$T/v.pgm:	2 images" ]
	cell-vote -q - <"$T/ab.pgm" | cmp - "$T/v.pgm"
	# a tile: its label plane is voted
	ppmmake rgb:d0/c0/c0 120 100 >"$T/rgb.ppm"
	pamtopnm <"$T/a.pgm" >"$T/lab.pgm"
	pamstack -tupletype RGB_LABEL "$T/rgb.ppm" "$T/lab.pgm" >"$T/tile.pam" 2>/dev/null
	cell-vote -q "$T/tile.pam" >"$T/tv.pgm"
	[ "$(pamfile "$T/tv.pgm")" = "$T/tv.pgm:	PGM raw, 120 by 100  maxval 255" ]
	cmp "$T/tv.pgm" <(cell-vote -q "$T/a.pgm")
}

@test "cell-vote: bad input fails with one line and writes nothing" {
	mkmap 40 40 >"$T/ok.pgm" <<-EOF
	3 20 20 10
	EOF
	# a value that is no class
	mkmap 40 40 >"$T/bad.pgm" <<-EOF
	12 20 20 10
	EOF
	{ pamtopnm <"$T/ok.pgm"; pamtopnm <"$T/bad.pgm"; } >"$T/mixed.pgm"
	run --separate-stderr cell-vote "$T/mixed.pgm"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "cell-vote: $T/mixed.pgm: image 2: "* ]]
	# a truncated image
	head -c 100 "$T/ok.pgm" >"$T/short.pgm"
	run --separate-stderr cell-vote "$T/short.pgm"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "cell-vote: $T/short.pgm: "* ]]
	run --separate-stderr cell-vote "$T/none.pgm"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "cell-vote: $T/none.pgm: "* ]]
}

@test "cell-vote: misuse prints the usage" {
	run --separate-stderr cell-vote -g 'Red cell' /dev/null
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "cell-vote: unknown group 'Red cell' (expected a partial label of the class table, such as 'White cell')" ]
	[[ "${stderr_lines[1]}" == "usage: cell-vote "* ]]
	run --separate-stderr cell-vote -g 'White cell' -g 'white_cell' /dev/null
	[ "$status" -eq 1 ]
	[[ "${stderr_lines[0]}" == "cell-vote: group 'white_cell': class 'Eosinophil' is already in another group" ]]
	run --separate-stderr cell-vote -r -1 /dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"split radius"* ]]
	run --separate-stderr cell-vote -s 1.5 /dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"speck area"* ]]
	run cell-vote --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: cell-vote "* ]]
}
