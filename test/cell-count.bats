#!/usr/bin/env bats
# This script tests: cell-count
# Also requires: awk, netpbm (ppmmake, pamstack), python3-yaml (optional)

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/cell-count

# The value of KEY in the first entry of the YAML in $output whose line
# matches "  KEY: " exactly at INDENT spaces (default 4, an image entry).
yaml_value() {
	local key=$1 ind=${2:-4}
	awk -v k="$(printf '%*s%s: ' "$ind" '' "$key")" \
	    'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' \
	    <<<"$output"
}

@test "cell-count: two separate discs are two cells" {
	mkmap 200 100 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	4 50 50 35
	4 150 50 35
	EOF
	run --separate-stderr cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(yaml_value Lymphocyte 6)" = 2 ]
	[ "$(yaml_value wbc)" = 2 ]
	[ "$(yaml_value rbc)" = 0 ]
	[ "$(yaml_value parasitemia)" = null ]
	[ "$(yaml_value dropped)" = 0 ]
}

# Two red cells of about 1,100 px, 34 px apart, merge into one component
# of about 2,000 px: round(2000 / 1100) = 2.
@test "cell-count: a merged pair of red cells counts as 2" {
	mkmap 100 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	9 30 30 19
	9 64 30 19
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$status" -eq 0 ]
	[ "$(yaml_value 'Healthy RBC' 6)" = 2 ]
	[ "$(yaml_value rbc_components)" = 1 ]
	[ "$(yaml_value rbc_clusters)" = 1 ]
	[ "$(yaml_value rbc_area)" = 1100 ]
	[ "$(yaml_value rbc_area_from)" = default ]
}

@test "cell-count: a tiny blob is dropped as noise, and --min-area keeps it" {
	mkmap 80 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	9 30 30 19
	9 70 10 1.5
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Healthy RBC' 6)" = 1 ]
	[ "$(yaml_value dropped)" = 1 ]
	run cell-count --min-area 'healthy_rbc=5' "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Healthy RBC' 6)" = 2 ]
	[ "$(yaml_value dropped)" = 0 ]
	run cell-count -m 9=5 "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Healthy RBC' 6)" = 2 ]
	run cell-count -m 9=2000 "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Healthy RBC' 6)" = 0 ]
	[ "$(yaml_value dropped)" = 2 ]
}

@test "cell-count: one infected and two healthy red cells: 33.33 % parasitemia" {
	mkmap 160 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	8 25 30 19
	9 75 30 19
	9 125 30 19
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Infected RBC' 6)" = 1 ]
	[ "$(yaml_value 'Healthy RBC' 6)" = 2 ]
	[ "$(yaml_value rbc)" = 3 ]
	[ "$(yaml_value parasitemia)" = 33.33 ]
}

@test "cell-count: an infected cell touching a healthy one counts once in each class" {
	mkmap 100 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	8 30 30 19
	9 66 30 19
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Infected RBC' 6)" = 1 ]
	[ "$(yaml_value 'Healthy RBC' 6)" = 1 ]
	[ "$(yaml_value rbc_clusters)" = 0 ]
	[ "$(yaml_value parasitemia)" = 50.00 ]
}

@test "cell-count: the white-cell differential" {
	mkmap 360 80 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	1 40 40 32
	3 115 40 32
	3 190 40 32
	3 265 40 32
	6 330 40 10
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value wbc)" = 4 ]
	[ "$(yaml_value Thrombocyte 6)" = 1 ]
	sed -n '/^    differential:/,/^    rbc_components:/p' <<<"$output" \
	    >"$BATS_TEST_TMPDIR/diff"
	grep -qx '      Eosinophil: 25.00' "$BATS_TEST_TMPDIR/diff"
	grep -qx '      Basophil: 0.00' "$BATS_TEST_TMPDIR/diff"
	grep -qx '      Neutrophil: 75.00' "$BATS_TEST_TMPDIR/diff"
	grep -qx '      Monocyte: 0.00' "$BATS_TEST_TMPDIR/diff"
}

# Three lone cells of about 440 px set the single-cell area; the pair of
# them merged counts as 2.  --rbc-area 200 makes each lone cell 2 cells
# and the pair (about 800 px) 4.
@test "cell-count: the single-cell area is the median of the lone red cells" {
	mkmap 200 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	9 20 30 12
	9 50 30 12
	9 80 30 12
	9 120 30 12
	9 140 30 12
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Healthy RBC' 6)" = 5 ]
	[ "$(yaml_value rbc_area_from)" = median ]
	[ "$(yaml_value rbc_singles)" = 3 ]
	[ "$(yaml_value rbc_clusters)" = 1 ]
	area=$(yaml_value rbc_area)
	[ "$area" -gt 400 ] && [ "$area" -lt 480 ]
	run cell-count --rbc-area 200 "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Healthy RBC' 6)" = 10 ]
	[ "$(yaml_value rbc_area)" = 200 ]
	[ "$(yaml_value rbc_area_from)" = option ]
}

@test "cell-count: a platelet clump counts as one, and ignored pixels not at all" {
	mkmap 120 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	7 20 30 10
	7 35 30 10
	7 45 40 10
	255 90 30 25
	EOF
	run cell-count "$BATS_TEST_TMPDIR/m.pgm"
	[ "$(yaml_value 'Platelet clump' 6)" = 1 ]
	[ "$(yaml_value dropped)" = 0 ]
	[ "$(yaml_value wbc)" = 0 ]
	[ "$(yaml_value rbc)" = 0 ]
	[ "$(sed -n '/^    counts:/,/^    wbc:/p' <<<"$output" |
	    grep -c ': [1-9]')" -eq 1 ]
}

@test "cell-count: a hand-counted map gives the expected YAML" {
	mkmap 320 160 <"$F/smear.discs" >"$BATS_TEST_TMPDIR/m.pgm"
	run --separate-stderr cell-count <"$BATS_TEST_TMPDIR/m.pgm"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	diff <(printf '%s\n' "$output") "$F/smear.yaml"
}

@test "cell-count: an RGB_LABEL tile counts as its label plane" {
	mkmap 320 160 <"$F/smear.discs" >"$BATS_TEST_TMPDIR/m.pgm"
	ppmmake rgb:c0/a0/b0 320 160 >"$BATS_TEST_TMPDIR/rgb.ppm"
	pamstack -tupletype RGB_LABEL "$BATS_TEST_TMPDIR/rgb.ppm" \
	    "$BATS_TEST_TMPDIR/m.pgm" >"$BATS_TEST_TMPDIR/t.pam"
	run cell-count - <"$BATS_TEST_TMPDIR/t.pam"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "$output") "$F/smear.yaml"
}

@test "cell-count: a stream of two images, and two files, give a total" {
	mkmap 320 160 <"$F/smear.discs" >"$BATS_TEST_TMPDIR/a.pgm"
	mkmap 160 60 >"$BATS_TEST_TMPDIR/b.pgm" <<-EOF
	8 25 30 19
	9 75 30 19
	9 125 30 19
	EOF
	cat "$BATS_TEST_TMPDIR/a.pgm" "$BATS_TEST_TMPDIR/b.pgm" \
	    >"$BATS_TEST_TMPDIR/ab.pgm"
	run cell-count "$BATS_TEST_TMPDIR/ab.pgm"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^  - file: ' <<<"$output")" -eq 2 ]
	[[ "$output" == *"    image: 2"* ]]
	sed -n '/^total:/,$p' <<<"$output" >"$BATS_TEST_TMPDIR/total"
	grep -qx '  images: 2' "$BATS_TEST_TMPDIR/total"
	grep -qx '    Infected RBC: 2' "$BATS_TEST_TMPDIR/total"
	grep -qx '    Healthy RBC: 5' "$BATS_TEST_TMPDIR/total"
	grep -qx '  rbc: 7' "$BATS_TEST_TMPDIR/total"
	grep -qx '  parasitemia: 28.57' "$BATS_TEST_TMPDIR/total"
	grep -qx '  dropped: 2' "$BATS_TEST_TMPDIR/total"
	cp "$BATS_TEST_TMPDIR/total" "$BATS_TEST_TMPDIR/total.stream"
	run cell-count "$BATS_TEST_TMPDIR/a.pgm" "$BATS_TEST_TMPDIR/b.pgm"
	[ "$status" -eq 0 ]
	[[ "$output" == *"file: \"$BATS_TEST_TMPDIR/b.pgm\""* ]]
	diff <(sed -n '/^total:/,$p' <<<"$output") "$BATS_TEST_TMPDIR/total.stream"
}

@test "cell-count: --tsv prints a header and one line per image" {
	mkmap 320 160 <"$F/smear.discs" >"$BATS_TEST_TMPDIR/a.pgm"
	cat "$BATS_TEST_TMPDIR/a.pgm" "$BATS_TEST_TMPDIR/a.pgm" \
	    >"$BATS_TEST_TMPDIR/aa.pgm"
	run cell-count --tsv <"$BATS_TEST_TMPDIR/aa.pgm"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.tsv"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out.tsv")" -eq 3 ]
	head -1 "$BATS_TEST_TMPDIR/out.tsv" | grep -q "^file	image	Eosinophil	.*	Healthy RBC	wbc	rbc	parasitemia	Eosinophil%	.*	Monocyte%	rbc_components	rbc_clusters	rbc_area	rbc_area_from	rbc_singles	dropped$"
	sed -n 3p "$BATS_TEST_TMPDIR/out.tsv" | grep -qx "<stdin>	2	0	0	1	2	1	1	1	1	3	4	4	25.00	0.00	0.00	25.00	50.00	25.00	3	1	1100	default	2	2"
}

@test "cell-count: the YAML parses" {
	python3 -c 'import yaml' 2>/dev/null || skip "no python3-yaml"
	run python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); t = d["total"]; print(d["images"][0]["file"], t["counts"]["Healthy RBC"], t["parasitemia"], t["differential"]["Lymphocyte"])' "$F/smear.yaml"
	[ "$output" = "<stdin> 3 25.0 50.0" ]
}

@test "cell-count: a label value that is not a class" {
	printf 'P5\n2 1\n255\n\0\14' >"$BATS_TEST_TMPDIR/m.pgm"
	run --separate-stderr cell-count "$BATS_TEST_TMPDIR/m.pgm"
	assert_fails_cleanly "m.pgm: image 1: label value 12 at (1,0) is not a class (0..9), a partial label or 255"
}

@test "cell-count: a bad image late in a stream leaves stdout empty" {
	mkmap 100 60 >"$BATS_TEST_TMPDIR/m.pgm" <<-EOF
	9 30 30 19
	EOF
	printf 'P5\n2 1\n255\n\0\14' >>"$BATS_TEST_TMPDIR/m.pgm"
	run --separate-stderr cell-count --tsv "$BATS_TEST_TMPDIR/m.pgm"
	assert_fails_cleanly "m.pgm: image 2: label value 12"
}

@test "cell-count: an empty stream" {
	run --separate-stderr cell-count </dev/null
	assert_fails_cleanly "<stdin>: empty stream"
}

@test "cell-count: a truncated image" {
	printf 'P5\n4 4\n255\n\0\0\0' >"$BATS_TEST_TMPDIR/m.pgm"
	run --separate-stderr cell-count "$BATS_TEST_TMPDIR/m.pgm"
	assert_fails_cleanly "m.pgm: image 1: unreadable or truncated"
}

@test "cell-count: a colour image is not a class map" {
	ppmmake red 4 4 >"$BATS_TEST_TMPDIR/m.ppm"
	run --separate-stderr cell-count "$BATS_TEST_TMPDIR/m.ppm"
	assert_fails_cleanly "m.ppm: image 1: expected"
}

@test "cell-count: a missing file" {
	run --separate-stderr cell-count "$BATS_TEST_TMPDIR/none.pgm"
	assert_fails_cleanly "none.pgm"
}

@test "cell-count: bad --min-area and --rbc-area values" {
	for arg in 9 =5 nosuch=5 12=5 background=5 0=5 9=0 9=abc 9=5x; do
		run --separate-stderr cell-count --min-area "$arg" </dev/null
		[ "$status" -eq 1 ] || { echo "$arg: status $status"; false; }
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "cell-count: invalid "* ]] || { echo "$arg: $stderr"; false; }
	done
	run --separate-stderr cell-count --min-area nosuch=5
	[ "$stderr" = "cell-count: invalid min-area 'nosuch=5': unknown class 'nosuch'" ]
	run --separate-stderr cell-count -m 12=5
	[ "$stderr" = "cell-count: invalid min-area '12=5': no class 12 (expected 1..9)" ]
	run --separate-stderr cell-count -m 9=5x
	[ "$stderr" = "cell-count: invalid minimum area '5x': not an integer" ]
	run --separate-stderr cell-count -m background=5
	[ "$stderr" = "cell-count: invalid min-area 'background=5': background is not counted" ]
	run --separate-stderr cell-count --rbc-area 0 </dev/null
	assert_fails_cleanly "invalid red-cell area '0': out of range"
}

@test "cell-count: an unknown option and a missing argument are usage errors" {
	run --separate-stderr cell-count --bogus
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "cell-count: unknown option '--bogus'" ]
	[[ "${stderr_lines[1]}" == "usage: cell-count "* ]]
	run --separate-stderr cell-count -m
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "cell-count: option '-m' needs an argument" ]
}

@test "cell-count: --help and --version" {
	run --separate-stderr cell-count --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: cell-count [--tsv] [-m class=px] [-r px] [file ...]" ]
	run cell-count --version
	[ "$status" -eq 0 ]
	[[ "$output" == "cell-count (smearseg) "* ]]
}
