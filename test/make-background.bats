#!/usr/bin/env bats
# This script tests: make-background
# Also requires: perl (synthetic samples and checks in test/fixtures),
#   pamchannel, pamsumm
load test_helper

setup() {
	MK="$FIXTURES/compose-tile/mksamples.pl"
	META="$FIXTURES/split-dataset/pammeta.pl"
	CHECK="$FIXTURES/compose-tile/checktiles.pl"
	cd "$BATS_TEST_TMPDIR"
	perl "$MK" "Healthy RBC:12" "Infected RBC:12" Basophil:2 >rbc.pam
}

# ratios STREAM: the red cells' colour over the plasma, per background
# and channel, from the recorded stain
ratios() {
	paste -d' ' <(perl "$META" rbc_colour "$1") <(perl "$META" plasma "$1") |
	    awk '{ printf "%.3f %.3f %.3f\n", $1 / $4, $2 / $5, $3 / $6 }'
}

@test "make-background: healthy, infected and mixed backgrounds with exact labels" {
	make-background -n 3 -W 300 -H 200 rbc.pam >bg.pam
	[ "$(perl "$META" kind bg.pam | tr '\n' ' ')" = "healthy infected mixed " ]
	pamsplit bg.pam b%d.pam 2>/dev/null
	[ "$(pamfile b0.pam)" = "b0.pam:	PAM, 300 by 200 by 4 maxval 255
    Tuple type: RGB_LABEL" ]
	[ "$(perl "$CHECK" "$SMEARSEG_SHARE/classes.yaml" b0.pam)" = "tiles 1 objects 0 classes 0,9" ]
	[ "$(perl "$CHECK" "$SMEARSEG_SHARE/classes.yaml" b1.pam)" = "tiles 1 objects 0 classes 0,8" ]
	[ "$(perl "$CHECK" "$SMEARSEG_SHARE/classes.yaml" b2.pam)" = "tiles 1 objects 0 classes 0,8,9" ]
}

@test "make-background: -k picks one kind; mixed shares vary within -m" {
	make-background -n 4 -W 200 -H 200 -k mixed -m 0.2-0.4 rbc.pam >bg.pam
	[ "$(perl "$META" kind bg.pam | sort -u)" = mixed ]
	perl "$META" infected_share bg.pam | while read -r r; do
		awk -v r="$r" 'BEGIN { exit !(r >= 0.2 && r <= 0.4) }'
	done
	[ "$(perl "$META" infected_share bg.pam | sort -u | wc -l)" -eq 4 ]
}

@test "make-background: RBCs cover about the asked share" {
	make-background -n 2 -W 400 -H 400 -c 0.25 rbc.pam >bg.pam
	perl "$META" coverage bg.pam | while read -r c; do
		awk -v c="$c" 'BEGIN { exit !(c >= 0.24 && c <= 0.27) }'
	done
	make-background -n 1 -W 400 -H 400 -c 0.1 rbc.pam >low.pam
	awk -v c="$(perl "$META" coverage low.pam)" \
	    'BEGIN { exit !(c >= 0.09 && c <= 0.12) }'
}

@test "make-background: -c LO-HI draws each background's coverage in the range; one value is the default's bytes" {
	make-background -n 12 -W 200 -H 200 -d 0 -g 0 rbc.pam >c.pam
	make-background -n 12 -W 200 -H 200 -d 0 -g 0 -c 0.25 rbc.pam >c1.pam
	make-background -n 12 -W 200 -H 200 -d 0 -g 0 -c 0.25-0.25 rbc.pam >c2.pam
	cmp c.pam c1.pam
	cmp c.pam c2.pam
	make-background -n 12 -W 200 -H 200 -d 0 -g 0 -c 0.1-0.5 rbc.pam \
	    >r.pam 2>r.err
	[ ! -s r.err ]          # every background reached its coverage
	# each within the range, sparse and dense ones among them
	perl "$META" coverage r.pam | awk '
	    { if ($1 < 0.095 || $1 > 0.52) exit 1; lo = NR == 1 || $1 < lo ? $1 : lo
	      hi = $1 > hi ? $1 : hi; n++ }
	    END { exit !(n == 12 && hi - lo > 0.2) }'
	# the same stains and kinds as with one coverage
	[ "$(perl "$META" plasma c.pam)" = "$(perl "$META" plasma r.pam)" ]
	[ "$(perl "$META" kind c.pam)" = "$(perl "$META" kind r.pam)" ]
	run --separate-stderr make-background -c 0.5-0.2 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid coverage '0.5-0.2' (start above end)"* ]]
	[ -z "$output" ]
	run --separate-stderr make-background -c 0.2-0.95 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"coverage end"* ]]
	[ -z "$output" ]
}

@test "make-background: the plasma varies and is not white" {
	make-background -n 1 -W 200 -H 200 -c 0 -d 0 -g 0 rbc.pam >plasma.pam
	pamchannel -tupletype RGB 0 1 2 <plasma.pam >rgb.pam
	max=$(pamsumm -max -brief rgb.pam)
	min=$(pamsumm -min -brief rgb.pam)
	[ "$max" -lt 250 ] && [ "$min" -gt 150 ] && [ "$min" -lt "$max" ]
}

@test "make-background: stain specks darken the plasma of half the backgrounds, labelled plasma, cells unchanged" {
	make-background -n 6 -W 200 -H 200 -d 0 -g 0 rbc.pam >clean.pam
	make-background -n 6 -W 200 -H 200 -d 40 -g 0 rbc.pam >specks.pam
	[ "$(perl "$META" specks clean.pam | sort -u)" = 0 ]
	perl "$META" specks specks.pam >n.txt
	# about half the backgrounds, each with up to 40 per 10,000 pixels
	[ "$(grep -cx 0 n.txt)" -ge 1 ] && [ "$(grep -cvx 0 n.txt)" -ge 1 ]
	awk '$1 > 160 { exit 1 }' n.txt
	# the labels are the same bytes; the images differ
	pamchannel 3 <clean.pam >clean.label
	pamchannel 3 <specks.pam >specks.label
	cmp clean.label specks.label
	! cmp -s clean.pam specks.pam
	# on a background without cells, a speck is well below the plasma
	make-background -n 8 -W 200 -H 200 -c 0 -d 0 rbc.pam >p0.pam
	make-background -n 8 -W 200 -H 200 -c 0 -d 40 rbc.pam >p1.pam
	[ "$(perl "$META" specks p1.pam | grep -cvx 0)" -ge 1 ]
	[ "$(perl "$CHECK" "$SMEARSEG_SHARE/classes.yaml" p1.pam)" = "tiles 8 objects 0 classes 0" ]
	# the darkest green of each background
	for p in p0 p1; do
		pamsplit $p.pam "$p-%d.pam" 2>/dev/null
		for f in "$p"-?.pam; do
			pamchannel -tupletype GRAYSCALE 1 <"$f" | pamsumm -min -brief
		done >$p.min
	done
	# no speck: no pixel far below the plasma; with them, some
	paste p0.min p1.min <(perl "$META" specks p1.pam) |
	    awk '$3 == 0 && $2 != $1 { exit 1 } $3 > 0 { n++; if ($2 > $1 - 30) exit 1 }
	    END { exit !(n >= 1) }'
}

@test "make-background: ghost cells pale the plasma of half the backgrounds, labelled plasma, cells unchanged" {
	make-background -n 8 -W 200 -H 200 -d 0 -g 0 rbc.pam >clean.pam
	make-background -n 8 -W 200 -H 200 -d 0 -g 1 rbc.pam >ghosts.pam
	[ "$(perl "$META" ghosts clean.pam | sort -u)" = 0 ]
	paste <(perl "$META" ghosts ghosts.pam) <(perl "$META" cells ghosts.pam) >n.txt
	# about half the backgrounds, each with up to one per red cell
	[ "$(awk '$1 == 0' n.txt | wc -l)" -ge 1 ] && [ "$(awk '$1 > 0' n.txt | wc -l)" -ge 1 ]
	awk '$1 > $2 { exit 1 }' n.txt
	pamchannel 3 <clean.pam >clean.label
	pamchannel 3 <ghosts.pam >ghosts.label
	cmp clean.label ghosts.label
	# the pictures differ exactly in the backgrounds that have ghosts
	pamsplit clean.pam "c-%d.pam" 2>/dev/null
	pamsplit ghosts.pam "g-%d.pam" 2>/dev/null
	i=0
	while read -r g cells; do
		if [ "$g" -eq 0 ]; then cmp "c-$i.pam" "g-$i.pam"; else ! cmp -s "c-$i.pam" "g-$i.pam"; fi
		i=$((i + 1))
	done <n.txt
	run --separate-stderr make-background -g 20 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ghost share"* ]]
}

@test "make-background: the same seed gives the same bytes" {
	make-background -n 2 -W 200 -H 200 -s 5 rbc.pam >a.pam
	make-background -n 2 -W 200 -H 200 -s 5 <rbc.pam >b.pam
	OMP_NUM_THREADS=1 make-background -n 2 -W 200 -H 200 -s 5 rbc.pam >c.pam
	cmp a.pam b.pam
	cmp a.pam c.pam
	make-background -n 2 -W 200 -H 200 -s 6 rbc.pam >d.pam
	! cmp -s a.pam d.pam
}

@test "make-background: an empty-mask sample is rejected and counted" {
	perl "$MK" -p bad "Healthy RBC:1:empty" >bad.pam
	cat rbc.pam bad.pam >mix.pam
	run --separate-stderr make-background -n 1 -W 100 -H 100 mix.pam
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"rejected 1 sample with no cell pixel"* ]]
}

@test "make-background: bad input fails cleanly" {
	: >empty.pam
	run --separate-stderr make-background -n 1 empty.pam
	assert_fails_cleanly "empty stream"
	perl "$MK" Erythroblast:1 >unknown.pam
	run --separate-stderr make-background -n 1 unknown.pam
	assert_fails_cleanly "'Erythroblast' is not a cell class"
	perl "$MK" "Healthy RBC:1:noclass" >noclass.pam
	run --separate-stderr make-background -n 1 noclass.pam
	assert_fails_cleanly "no 'class' in its metadata"
	perl "$MK" "Healthy RBC:3" >healthy.pam
	run --separate-stderr make-background -n 1 -k mixed healthy.pam
	assert_fails_cleanly "no Infected RBC sample"
	make-background -n 1 -W 64 -H 64 -k healthy healthy.pam >/dev/null
	make-background -n 1 -W 64 -H 64 rbc.pam | pamchannel -tupletype RGB \
	    0 1 2 >rgb.pam
	run --separate-stderr make-background rgb.pam
	assert_fails_cleanly "expected RGB_ALPHA"
}

@test "make-background: misuse prints the usage" {
	run --separate-stderr make-background -k purple rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid kind 'purple'"* ]]
	[[ "$stderr" == *"usage: make-background"* ]]
	run --separate-stderr make-background -c 2 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"coverage"* ]]
	run --separate-stderr make-background -d 200 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"speck density"* ]]
	run --separate-stderr make-background -m 0.5 rbc.pam
	[ "$status" -eq 1 ]
	run --separate-stderr make-background --bogus rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unknown option '--bogus'"* ]]
	[ -z "$output" ]
}

@test "make-background: red cells take the background's stain, not their own colour" {
	perl "$MK" -c "Healthy RBC=120,140,200" -c "Infected RBC=230,150,140" \
	    "Healthy RBC:12" "Infected RBC:12" >two.pam
	MEAN="$FIXTURES/make-background/classmean.pl"
	# far apart in the samples: blue healthy, red infected cells
	make-background -u -n 3 -k mixed -W 300 -H 300 two.pam >own.pam
	paste -d' ' <(perl "$MEAN" 8 own.pam) <(perl "$MEAN" 9 own.pam) |
	    awk '{ if ($1 - $4 < 60 || $6 - $3 < 30) exit 1 }'
	# with the drawn stain: within a background, alike (the parasite and
	# the pale centre differ), and the colour is the recorded rbc_colour
	make-background -n 3 -k mixed -W 300 -H 300 two.pam >bg.pam
	paste -d' ' <(perl "$MEAN" 8 bg.pam) <(perl "$MEAN" 9 bg.pam) |
	    awk 'function abs(v) { return v < 0 ? -v : v }
	    { for (c = 1; c <= 3; c++) if (abs($c - $(c + 3)) > 25) exit 1 }'
	[ "$(perl "$META" rbc_colour bg.pam | wc -l)" -eq 3 ]
	[ "$(perl "$META" plasma bg.pam | sort -u | wc -l)" -eq 3 ]
	paste -d' ' <(perl "$META" rbc_colour bg.pam) <(perl "$MEAN" 9 bg.pam) |
	    awk 'function abs(v) { return v < 0 ? -v : v }
	    { for (c = 1; c <= 3; c++) if (abs($c - $(c + 3)) > 20) exit 1 }'
	[ "$(perl "$META" rbc_colour own.pam | sort -u)" = "-" ]
}

@test "make-background: -r spreads each channel of the red cells' stain on its own; labels unchanged" {
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -r 0 rbc.pam >r0.pam
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -r 0.15 rbc.pam >r15.pam
	# -r 0: only the shift common to the three channels, so each
	# background's ratios keep the mean's gaps (0.85, 0.73, 0.81),
	# up to the rounding of the recorded colours
	ratios r0.pam | awk 'function abs(v) { return v < 0 ? -v : v }
	    { if (abs(($1 - $2) - 0.12) > 0.015 || abs(($3 - $2) - 0.08) > 0.015) exit 1 }'
	# -r 0.15: the gaps vary from background to background
	ratios r15.pam | awk 'function abs(v) { return v < 0 ? -v : v }
	    { if (abs(($1 - $2) - 0.12) > 0.05 || abs(($3 - $2) - 0.08) > 0.05) n++ }
	    END { exit !(n >= 4) }'
	# same cells and labels: only the colours move
	pamchannel 3 <r0.pam >r0.label
	pamchannel 3 <r15.pam >r15.label
	cmp r0.label r15.label
	! cmp -s r0.pam r15.pam
	run --separate-stderr make-background -r 0.3 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"red-cell spread"* ]]
}

@test "make-background: -e gives each red cell its own shade and tint; 0 is the default's bytes" {
	MEAN="$FIXTURES/make-background/classmean.pl"
	make-background -n 3 -W 200 -H 200 -d 0 -g 0 rbc.pam >e.pam
	make-background -n 3 -W 200 -H 200 -d 0 -g 0 -e 0 rbc.pam >e0.pam
	cmp e.pam e0.pam
	make-background -n 3 -W 200 -H 200 -d 0 -g 0 -e 0.15 rbc.pam >e15.pam
	! cmp -s e.pam e15.pam
	# the cells' colours spread within each background: the s.d. over
	# the red-cell pixels of the green channel, per background
	plain() {
		pamchannel -tupletype GRAYSCALE "$1" <"$2" | pamtopnm |
		    pnmtoplainpnm | tail -n +4 | tr -s ' ' '\n' | grep .
	}
	sd() {
		pamsplit "$1" "$1.%d" 2>/dev/null
		for f in "$1".[0-9]*; do
			paste -d' ' <(plain 1 "$f") <(plain 3 "$f") | awk '
			$2 == 8 || $2 == 9 { s += $1; q += $1 * $1; k++ }
			END { m = s / k; printf "%.1f\n", sqrt(q / k - m * m) }'
		done
	}
	paste -d' ' <(sd e.pam) <(sd e15.pam) | awk '{ if ($2 < $1 + 3) exit 1 }'
	# the cells, their places and labels are the same
	pamchannel 3 <e.pam >e.label
	pamchannel 3 <e15.pam >e15.label
	cmp e.label e15.label
	run --separate-stderr make-background -e 0.5 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cell spread"* ]]
}

@test "make-background: -b and -R draw a share of the stains bluer or redder; 0 is the default's bytes" {
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 rbc.pam >b.pam
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -b 0 rbc.pam >b0.pam
	cmp b.pam b0.pam
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -b 1 rbc.pam >b1.pam
	# every background moves toward blue over red (0.84 / 0.72 against
	# the usual 0.81 / 0.85), by its own amount; the plasma stays
	[ "$(perl "$META" plasma b.pam)" = "$(perl "$META" plasma b1.pam)" ]
	paste -d' ' <(ratios b.pam) <(ratios b1.pam) | awk '
	    { d = $6 / $4 - $3 / $1; if (d < -0.01) exit 1; if (d > 0.05) n++; m = d > m ? d : m }
	    END { exit !(n >= 6 && m > 0.15) }'
	# -b 0.5: about half of them, the others in their usual stain
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -b 0.5 rbc.pam >b5.pam
	n=$(paste -d' ' <(perl "$META" rbc_colour b.pam) <(perl "$META" rbc_colour b5.pam) |
	    awk '$1 != $4 || $2 != $5 || $3 != $6' | wc -l)
	[ "$n" -ge 2 ] && [ "$n" -le 10 ]
	# the same cells, places and labels
	pamchannel 3 <b.pam >b.label
	pamchannel 3 <b1.pam >b1.label
	cmp b.label b1.label
	run --separate-stderr make-background -b 1.5 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"blue share"* ]]
	[ -z "$output" ]
	# -R 1: every background moves the other way, toward a deep pink
	# (blue over red 0.78), the plasma and the labels as they were
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -R 1 rbc.pam >r1.pam
	[ "$(perl "$META" plasma b.pam)" = "$(perl "$META" plasma r1.pam)" ]
	paste -d' ' <(ratios b.pam) <(ratios r1.pam) | awk '
	    { d = $6 / $4 - $3 / $1; if (d > 0.01) exit 1; if (d < -0.03) n++; m = d < m ? d : m }
	    END { exit !(n >= 6 && m < -0.1) }'
	pamchannel 3 <r1.pam >r1.label
	cmp b.label r1.label
	# -b 0.5 -R 0.5: each background one way or the other or neither, by
	# the same draw; the bluer ones are those of -b 0.5
	make-background -n 12 -W 100 -H 100 -d 0 -g 0 -b 0.5 -R 0.5 rbc.pam >br.pam
	paste -d' ' <(perl "$META" rbc_colour b5.pam) <(perl "$META" rbc_colour br.pam) \
	    <(perl "$META" rbc_colour b.pam) | awk '
	    $1 != $7 || $2 != $8 || $3 != $9 { if ($1 != $4 || $2 != $5 || $3 != $6) exit 1 }'
	run --separate-stderr make-background -b 0.6 -R 0.6 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"more than 1 in all"* ]]
	[ -z "$output" ]
}

@test "make-background: -p keeps the specks clear of the cells; 0 is the default's bytes" {
	GAP="$FIXTURES/make-background/speckgap.pl"
	make-background -n 4 -W 200 -H 200 -d 40 -g 0 rbc.pam >d.pam
	make-background -n 4 -W 200 -H 200 -d 40 -g 0 -p 0 rbc.pam >p0.pam
	cmp d.pam p0.pam
	make-background -n 4 -W 200 -H 200 -d 0 -g 0 rbc.pam >none.pam
	make-background -n 4 -W 200 -H 200 -d 40 -g 0 -p 3 rbc.pam >p3.pam
	# without a margin some specks touch a cell; with -p 3 none comes
	# within 3 px, and most are still drawn
	read -r n0 gap0 < <(perl "$GAP" d.pam none.pam)
	read -r n3 gap3 < <(perl "$GAP" p3.pam none.pam)
	[ "$gap0" -le 1 ] && [ "$gap3" -gt 3 ]
	[ "$n3" -gt 0 ] && [ "$n3" -lt "$n0" ]
	# the specks recorded are those drawn
	sum() { perl "$META" specks "$1" | awk '{ s += $1 } END { print s }'; }
	[ "$(sum p3.pam)" -lt "$(sum d.pam)" ]
	# the same cells, places and labels
	pamchannel 3 <d.pam >d.label
	pamchannel 3 <p3.pam >p3.label
	cmp d.label p3.label
	run --separate-stderr make-background -p 30 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"speck margin"* ]]
	[ -z "$output" ]
}

@test "make-background: -f narrows the red cells' soft edge; the labels stay" {
	MEAN="$FIXTURES/make-background/classmean.pl"
	make-background -n 2 -W 200 -H 200 -d 0 -g 0 rbc.pam >f2.pam
	make-background -n 2 -W 200 -H 200 -d 0 -g 0 -f 2 rbc.pam >f2b.pam
	cmp f2.pam f2b.pam
	make-background -n 2 -W 200 -H 200 -d 0 -g 0 -f 0.5 rbc.pam >f05.pam
	! cmp -s f2.pam f05.pam
	# the same labels, so the cells' pixels and places are the same
	pamchannel 3 <f2.pam >f2.label
	pamchannel 3 <f05.pam >f05.label
	cmp f2.label f05.label
	# the pixels just outside the labels (the soft rim) are darker, more
	# cell, with the narrower edge: the mean green of plasma-labelled
	# pixels falls
	paste -d' ' <(perl "$MEAN" 0 f2.pam) <(perl "$MEAN" 0 f05.pam) |
	    awk '{ if ($5 >= $2) exit 1 }'
	run --separate-stderr make-background -f 5 rbc.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"feather"* ]]
}

@test "make-background: -U keeps a share of the backgrounds in their cells' own colours, from one source with both classes" {
	MEAN="$FIXTURES/make-background/classmean.pl"
	# source a: bluish cells of both classes; source b: red healthy ones
	perl "$MK" -p a -m source=a -c "Healthy RBC=120,140,200" \
	    -c "Infected RBC=120,140,200" "Healthy RBC:8" "Infected RBC:8" >a.pam
	perl "$MK" -p b -m source=b -c "Healthy RBC=230,150,140" \
	    "Healthy RBC:8" >b.pam
	cat a.pam b.pam >two.pam
	make-background -n 8 -W 150 -H 150 -d 0 -g 0 two.pam >u.pam
	make-background -n 8 -W 150 -H 150 -d 0 -g 0 -U 0 two.pam >u0.pam
	cmp u.pam u0.pam
	# -U 1: no drawn stain, and every cell of every kind, healthy ones
	# too, from source a in its own blue (b's red cells never come)
	make-background -n 6 -W 150 -H 150 -d 0 -g 0 -U 1 two.pam >u1.pam
	[ "$(perl "$META" rbc_colour u1.pam | sort -u)" = "-" ]
	[ "$(perl "$META" kind u1.pam | sort -u | wc -l)" -eq 3 ]
	cat <(perl "$MEAN" 8 u1.pam) <(perl "$MEAN" 9 u1.pam) | grep -v none |
	    awk '{ n++; if ($3 < $1 + 50) exit 1 } END { exit !(n >= 6) }'
	# in the usual stain, healthy and infected cells are alike, far
	# from the blue of source a, whatever the source of the cell
	perl "$MEAN" 9 u.pam | grep -v none |
	    awk '{ if ($3 >= $1 + 50) exit 1 }'
	# -U 0.5: some backgrounds in their own colours, the others the
	# bytes that -U 0 gives
	make-background -n 8 -W 150 -H 150 -d 0 -g 0 -U 0.5 two.pam >u5.pam
	n=$(perl "$META" rbc_colour u5.pam | grep -c '^-$')
	[ "$n" -ge 1 ] && [ "$n" -le 7 ]
	pamsplit u.pam u.%d.pam 2>/dev/null
	pamsplit u5.pam u5.%d.pam 2>/dev/null
	same=0
	for i in 0 1 2 3 4 5 6 7; do
		cmp -s "u.$i.pam" "u5.$i.pam" && same=$((same + 1))
	done
	[ "$same" -eq $((8 - n)) ]
	# no source with both classes: refused, nothing written
	run --separate-stderr make-background -k healthy -U 0.5 b.pam
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"b.pam: no source holds both Healthy RBC and Infected RBC"* ]]
	[ -z "$output" ]
	run --separate-stderr make-background -U 1.5 two.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"own-colour share"* ]]
	[ -z "$output" ]
}
