#!/usr/bin/env bats
# This script tests: crop-cells
# Also requires: netpbm
#
# Fixtures (test/fixtures/crop-cells/): small drawn images (a cell and its
# 0/128/255 mask with a hole and a stray speck, a red cell on black tied
# to a neighbour by a thread, a smear with two platelets, a white cell
# touching a red cell) and a few real blocks from share/blocks/.

load test_helper

setup() {
	F=$FIXTURES/crop-cells
	T=$BATS_TEST_TMPDIR
}

# Print "VALUES comps=N holes=M" for the alpha plane of every sample in
# the stream $1, one line each: VALUES lists the distinct alpha values,
# N counts 8-connected cell components, M the hole pixels (outside pixels
# that no 4-connected path joins to the border).
alpha_report() {
	local f
	rm -rf "$T/split"
	mkdir "$T/split"
	(cd "$T/split" && pamsplit "$1" s_%d.pam 2>/dev/null)
	for f in $(ls "$T/split" | sort -t_ -k2 -n); do
		pamchannel -tupletype GRAYSCALE 3 < "$T/split/$f" | pamtopnm |
		    pnmnoraw | awk '
		{ for (i = 1; i <= NF; i++) tok[nt++] = $i }
		END {
			w = tok[1]; h = tok[2]
			for (i = 0; i < w * h; i++) {
				v[i] = tok[4 + i] + 0; seen[v[i]] = 1
			}
			vals = ""
			for (k = 0; k < 256; k++)
				if (k in seen)
					vals = vals (vals == "" ? "" : ",") k
			comps = 0
			for (i = 0; i < w * h; i++) {
				if (v[i] != 255 || (i in lab)) continue
				comps++; lab[i] = 1; sp = 0; st[sp++] = i
				while (sp > 0) {
					p = st[--sp]; x = p % w; y = int(p / w)
					for (dy = -1; dy <= 1; dy++) for (dx = -1; dx <= 1; dx++) {
						nx = x + dx; ny = y + dy
						if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue
						q = ny * w + nx
						if (v[q] == 255 && !(q in lab)) { lab[q] = 1; st[sp++] = q }
					}
				}
			}
			sp = 0
			for (i = 0; i < w * h; i++) {
				x = i % w; y = int(i / w)
				if ((x == 0 || y == 0 || x == w - 1 || y == h - 1) && v[i] != 255) {
					out[i] = 1; st[sp++] = i
				}
			}
			while (sp > 0) {
				p = st[--sp]; x = p % w; y = int(p / w)
				n = 0
				if (x > 0) nb[n++] = p - 1
				if (x < w - 1) nb[n++] = p + 1
				if (y > 0) nb[n++] = p - w
				if (y < h - 1) nb[n++] = p + w
				for (k = 0; k < n; k++) {
					q = nb[k]
					if (v[q] != 255 && !(q in out)) { out[q] = 1; st[sp++] = q }
				}
			}
			holes = 0
			for (i = 0; i < w * h; i++) if (v[i] != 255 && !(i in out)) holes++
			print vals, "comps=" comps, "holes=" holes
		}'
	done
}

# Every sample of stream $1 has a binary alpha, one component, no holes.
assert_clean_samples() {
	local report
	report=$(alpha_report "$1")
	[ -n "$report" ]
	if echo "$report" | grep -v '^0,255 comps=1 holes=0$'; then
		echo "bad samples: $report" >&2
		return 1
	fi
}

# The value of metadata KEY in the first sample of stream $1.
meta() {
	grep -a -m1 "^#$2: " "$1" | sed "s/^#$2: //"
}

@test "crop-cells --help prints the usage on stdout and exits 0" {
	run --separate-stderr crop-cells --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: crop-cells -M mode"* ]]
	[[ "$output" == *"--mode MODE"* ]]
	[ -z "$stderr" ]
}

@test "crop-cells --version names the program and the package" {
	run --separate-stderr crop-cells --version
	[ "$status" -eq 0 ]
	[[ "$output" == "crop-cells (smearseg) "* ]]
}

@test "crop-cells rejects an unknown option with the usage" {
	run --separate-stderr crop-cells -M mask -c Basophil --bogus
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "${stderr_lines[0]}" == "crop-cells: unknown option '--bogus'" ]]
	[[ "${stderr_lines[1]}" == "usage: crop-cells "* ]]
}

@test "crop-cells needs a mode and a known one" {
	run --separate-stderr crop-cells -c Basophil "$F/cell.png"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no --mode"* ]]
	run --separate-stderr crop-cells -M fuzzy -c Basophil
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unknown mode 'fuzzy'"* ]]
}

@test "crop-cells checks its numbers" {
	run --separate-stderr crop-cells -M black -c Healthy_RBC -s 0 "$F/black.png"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid scale '0'"* ]]
	run --separate-stderr crop-cells -M centre -c Basophil -t 20
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--threshold is only for the mask and black modes"* ]]
}

@test "mask mode: binary alpha, one component, holes filled, metadata" {
	{ pngtopam "$F/cell.png"; pngtopam "$F/cell-mask.png"; } > "$T/in.pnm"
	run --separate-stderr crop-cells -M mask -c lymphocyte -S test \
	    -i test/cell -n "$T/in.pnm"
	[ "$status" -eq 0 ]
	[ "$stderr" = "crop-cells: 1 sample, 0 rejected" ]
	crop-cells -M mask -c lymphocyte -S test -i test/cell -n -q \
	    "$T/in.pnm" > "$T/out.pam"
	run pamfile "$T/out.pam"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PAM, 35 by 35 by 4 maxval 255"* ]]
	[[ "$output" == *"RGB_ALPHA"* ]]
	assert_clean_samples "$T/out.pam"
	[ "$(meta "$T/out.pam" class)" = "Lymphocyte" ]
	[ "$(meta "$T/out.pam" source)" = "test" ]
	[ "$(meta "$T/out.pam" id)" = "test/cell" ]
	[ "$(meta "$T/out.pam" group)" = "test/cell" ]
	[ "$(meta "$T/out.pam" scale)" = "1" ]
}

@test "mask mode: a real zxaoyou tile and mask, rescaled" {
	{ pngtopam "$F/zxaoyou1-287.bmp.png"; pngtopam "$F/zxaoyou1-287.png"; } |
	    crop-cells -M mask -c Lymphocyte -S zxaoyou1 -s 0.85 -q > "$T/out.pam"
	assert_clean_samples "$T/out.pam"
	[ "$(meta "$T/out.pam" scale)" = "0.85" ]
}

@test "mask mode: a mask of another size is an error naming the image" {
	{ pngtopam "$F/cell.png"; pngtopam "$F/cell-mask.png"
	  pngtopam "$F/cell.png"; pngtopam "$F/cell-mask-46.png"; } > "$T/in.pnm"
	run --separate-stderr crop-cells -M mask -c Basophil -i 007 -n "$T/in.pnm"
	assert_fails_cleanly "crop-cells: 007#2: mask is 48x46, image is 48x48"
}

@test "mask mode: the stream must not end before a mask" {
	pngtopam "$F/cell.png" > "$T/in.pnm"
	run --separate-stderr crop-cells -M mask -c Basophil "$T/in.pnm"
	assert_fails_cleanly "the stream ends before its mask"
}

@test "a mask with no cell is a counted reject; no sample at all fails" {
	{ pngtopam "$F/cell.png"; pngtopam "$F/cell-mask-empty.png"; } > "$T/empty.pnm"
	run --separate-stderr crop-cells -M mask -c Basophil "$T/empty.pnm"
	assert_fails_cleanly "crop-cells: 0 samples, 1 rejected (1 no cell)"
	{ pngtopam "$F/cell.png"; pngtopam "$F/cell-mask.png"
	  cat "$T/empty.pnm"; } > "$T/mixed.pnm"
	run --separate-stderr crop-cells -M mask -c Basophil -n -v "$T/mixed.pnm"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[ "${stderr_lines[0]}" = "crop-cells: $T/mixed.pnm#2: rejected: no cell" ]
	[ "${stderr_lines[1]}" = "crop-cells: 1 sample, 1 rejected (1 no cell)" ]
}

@test "an empty stream is an error" {
	run --separate-stderr crop-cells -M black -c Healthy_RBC < /dev/null
	assert_fails_cleanly "empty stream"
}

@test "a truncated image is an error and nothing is written" {
	pngtopam "$F/black.png" > "$T/one.pnm"
	{ cat "$T/one.pnm"; head -c 2000 "$T/one.pnm"; } > "$T/cut.pnm"
	run --separate-stderr crop-cells -M black -c Healthy_RBC -n "$T/cut.pnm"
	assert_fails_cleanly "truncated"
}

@test "an unknown class or a class that is not a cell is an error" {
	run --separate-stderr crop-cells -M black -c Megakaryocyte
	assert_fails_cleanly "unknown class 'Megakaryocyte'"
	run --separate-stderr crop-cells -M black -c background
	assert_fails_cleanly "class 'background' is not a cell class"
	printf 'a a Basophil\nb b Mastcell\n' > "$T/list"
	run --separate-stderr crop-cells -M black -l "$T/list" "$F/black.png"
	assert_fails_cleanly "$T/list:2: unknown class 'Mastcell'"
}

@test "black mode: threads to neighbours are cut, the group is kept" {
	pngtopam "$F/black.png" > "$T/in.pnm"
	printf '# id group class\nnih/x/C1P1_a nih/C1P1 healthy_RBC\n' > "$T/list"
	crop-cells -M black -S nih -l "$T/list" -n -q "$T/in.pnm" > "$T/out.pam"
	run pamfile "$T/out.pam"
	[[ "$output" == *"PAM, 31 by 31 by 4"* ]]
	assert_clean_samples "$T/out.pam"
	[ "$(meta "$T/out.pam" class)" = "Healthy RBC" ]
	[ "$(meta "$T/out.pam" group)" = "nih/C1P1" ]
}

@test "black mode: a real NIH cell" {
	pngtopam "$F/nih-C51AP12thinF_IMG_20150724_154243_cell_128.png" |
	    crop-cells -M black -c Infected_RBC -s 0.29 -q > "$T/out.pam"
	assert_clean_samples "$T/out.pam"
	[ "$(meta "$T/out.pam" class)" = "Infected RBC" ]
}

@test "box mode: one sample per box, numbered ids" {
	pngtopam "$F/smear.png" > "$T/in.pnm"
	printf 'bccd/s bccd/s Thrombocyte 15,25,25,35 55,25,65,35\n' > "$T/list"
	run --separate-stderr crop-cells -M box -S bccd -l "$T/list" "$T/in.pnm"
	[ "$status" -eq 0 ]
	[ "$stderr" = "crop-cells: 2 samples, 0 rejected" ]
	crop-cells -M box -S bccd -l "$T/list" -q "$T/in.pnm" > "$T/out.pam"
	assert_clean_samples "$T/out.pam"
	[ "$(grep -a '^#id: ' "$T/out.pam" | tr '\n' ' ')" = \
	    "#id: bccd/s#1 #id: bccd/s#2 " ]
	[ "$(grep -a -c '^#group: bccd/s$' "$T/out.pam")" -eq 2 ]
}

@test "box mode: needs a list, and boxes inside the image" {
	run --separate-stderr crop-cells -M box -c Thrombocyte "$F/smear.png"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--mode box needs --list"* ]]
	pngtopam "$F/smear.png" > "$T/in.pnm"
	printf 's s Thrombocyte 70,50,90,59\n' > "$T/list"
	run --separate-stderr crop-cells -M box -l "$T/list" "$T/in.pnm"
	assert_fails_cleanly "s: box 1 (70,50,90,59) is outside the 80x60 image"
	printf 's s Thrombocyte 20,20,10,30\n' > "$T/list"
	run --separate-stderr crop-cells -M box -l "$T/list" "$T/in.pnm"
	assert_fails_cleanly "$T/list:1: bad box"
	# the message quotes the whole box; a coordinate is digits alone
	for box in 10,20,30 10,20,30,40, +10,20,30,40 -0,20,30,40; do
		printf 's s Thrombocyte %s\n' "$box" > "$T/list"
		run --separate-stderr crop-cells -M box -l "$T/list" "$T/in.pnm"
		assert_fails_cleanly "$T/list:1: bad box '$box' (expected xmin,ymin,xmax,ymax)"
	done
}

@test "a list must match the stream and not repeat an id" {
	pngtopam "$F/black.png" > "$T/in.pnm"
	printf 'a a Healthy_RBC\nb b Healthy_RBC\n' > "$T/list"
	run --separate-stderr crop-cells -M black -n -l "$T/list" "$T/in.pnm"
	assert_fails_cleanly "has 2 lines, the stream only 1 images"
	printf 'a a Healthy_RBC\na b Healthy_RBC\n' > "$T/list"
	run --separate-stderr crop-cells -M black -n -l "$T/list" "$T/in.pnm"
	assert_fails_cleanly "id 'a' is on two lines"
	run --separate-stderr crop-cells -M black -c Basophil -l "$T/list" "$T/in.pnm"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"come from the list"* ]]
}

@test "centre mode: the white cell without the red cell touching it" {
	pngtopam "$F/wbc.png" > "$T/in.pnm"
	crop-cells -M centre -c Neutrophil -q "$T/in.pnm" > "$T/out.pam"
	assert_clean_samples "$T/out.pam"
	# the cell is a disk of 61 px; with the red cell it would be 90 high
	run pamfile "$T/out.pam"
	[[ "$output" =~ PAM,\ (6[0-9])\ by\ (6[0-9])\ by\ 4 ]]
}

@test "centre mode: real PBC crops of a neutrophil and a platelet" {
	jpegtopnm -quiet "$F/pbc-BNE_93736.jpg" |
	    crop-cells -M centre -c Neutrophil -s 0.51 -q > "$T/n.pam"
	assert_clean_samples "$T/n.pam"
	jpegtopnm -quiet "$F/pbc-PLATELET_592947.jpg" |
	    crop-cells -M centre -c Thrombocyte -s 0.51 -q > "$T/p.pam"
	assert_clean_samples "$T/p.pam"
}

@test "centre mode: a crop without a stained cell is a counted reject" {
	pngtopam "$F/black.png" > "$T/in.pnm"
	run --separate-stderr crop-cells -M centre -c Thrombocyte -v "$T/in.pnm"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "${stderr_lines[1]}" == "crop-cells: 0 samples, 1 rejected (1 "* ]]
}

@test "the size check rejects implausible cells and says why" {
	pngtopam "$F/black.png" > "$T/in.pnm"
	run --separate-stderr crop-cells -M black -c Neutrophil "$T/in.pnm"
	assert_fails_cleanly "0 samples, 1 rejected (1 too small)"
	run --separate-stderr crop-cells -M black -c Neutrophil -s 5 "$T/in.pnm"
	assert_fails_cleanly "0 samples, 1 rejected (1 too large)"
}

@test "output is the same on every run" {
	pngtopam "$F/wbc.png" > "$T/in.pnm"
	crop-cells -M centre -c Monocyte -s 1.3 -q "$T/in.pnm" > "$T/a.pam"
	crop-cells -M centre -c Monocyte -s 1.3 -q "$T/in.pnm" > "$T/b.pam"
	cmp "$T/a.pam" "$T/b.pam"
	assert_clean_samples "$T/a.pam"
}

@test "blocks.sh: one source of share/blocks as a sample stream" {
	sh "$TOP/pipelines/blocks.sh" zxaoyou1 > "$T/z.pam" 2> "$T/z.err"
	[ "$(cat "$T/z.err")" = "blocks.sh: zxaoyou1: 164 samples, 0 rejected" ]
	[ "$(grep -a -c '^#source: zxaoyou1$' "$T/z.pam")" -eq 164 ]
	run pamfile -allimages "$T/z.pam"
	[ "$status" -eq 0 ]
	run --separate-stderr sh "$TOP/pipelines/blocks.sh" lisc
	assert_fails_cleanly "unknown source 'lisc'"
}

@test "blocks.sh: an NIH slide photographed through two cameras is one group" {
	local b=$T/b/nih_malaria_cell_images n=$TOP/share/blocks/nih_malaria_cell_images
	local m=Parasitized/C47P8thin_Original_Motic_IMG_20150714_093512_cell_170
	local o=Parasitized/C47P8thinOriginalOlympusCX21_IMG_20150717_172748_cell_158
	local p=Parasitized/C107P68ThinF_IMG_20150924_221909_cell_162
	mkdir -p "$b/Parasitized"
	{
		head -1 "$n/manifest.csv"
		grep -e "^$m.png," -e "^$o.png," -e "^$p.png," "$n/manifest.csv"
	} >"$b/manifest.csv"
	[ "$(wc -l <"$b/manifest.csv")" -eq 4 ]
	cp "$n/$m.png" "$n/$o.png" "$n/$p.png" "$b/Parasitized/"
	sh "$TOP/pipelines/blocks.sh" -b "$T/b" nih >"$T/g.pam" 2>"$T/g.err"
	[ "$(grep -a '^#group: ' "$T/g.pam" | sort | uniq -c | awk '{ print $1, $2, $3 }')" = \
	    "1 #group: nih/C107P68ThinF
2 #group: nih/C47P8thin" ]
}

@test "samples keep the plasma colour of their photo; cells on black have none" {
	jpegtopnm -quiet "$F/pbc-BNE_93736.jpg" |
	    crop-cells -M centre -c Neutrophil -s 0.51 -q > "$T/n.pam"
	# the cream background of a CellaVision crop
	meta "$T/n.pam" plasma | awk 'NF != 3 || $1 < 230 || $3 > $1 { exit 1 }'
	pngtopam "$F/nih-C51AP12thinF_IMG_20150724_154243_cell_128.png" |
	    crop-cells -M black -c Infected_RBC -s 0.29 -q > "$T/r.pam"
	[ -z "$(meta "$T/r.pam" plasma)" ]
}

# A PPM of a red cell on black: a disc of radius 16, or (crescent) the
# same disc less a disc of radius 13 shifted by 9 px.
red_cell() {
	awk -v cres="$1" 'BEGIN {
		print "P3 48 48 255"
		for (y = 0; y < 48; y++) for (x = 0; x < 48; x++) {
			dx = x - 23.5; dy = y - 23.5
			in1 = dx * dx + dy * dy <= 16 * 16
			in2 = (dx - 9) * (dx - 9) + dy * dy <= 13 * 13
			c = in1 && !(cres && in2)
			print c ? "200 150 160" : "0 0 0"
		}
	}'
}

@test "a red cell that fills too little of its box is rejected as not round" {
	red_cell 0 | crop-cells -M black -c Healthy_RBC -q > "$T/disc.pam"
	assert_clean_samples "$T/disc.pam"
	run --separate-stderr sh -c "$(declare -f red_cell); red_cell 1 |
	    crop-cells -M black -c Healthy_RBC"
	assert_fails_cleanly "0 samples, 1 rejected (1 not round)"
}

# A disc of radius 40 px, colour 200,150,150, centred in a 100x100 photo
# of colour $1 (P3 on stdout); with $1 "mask", the disc's mask instead
# (P2, 255 on the disc).
disc_on() {
	awk -v bg="$1" 'BEGIN {
		mask = bg == "mask"
		split(bg, b, ",")
		print mask ? "P2 100 100 255" : "P3 100 100 255"
		for (y = 0; y < 100; y++)
			for (x = 0; x < 100; x++) {
				in_disc = (x - 49.5) ^ 2 + (y - 49.5) ^ 2 <= 1600
				if (mask)
					print in_disc * 255
				else if (in_disc)
					print 200, 150, 150
				else
					print b[1], b[2], b[3]
			}
	}'
}

# The distinct colours of the cell pixels (alpha 255) of sample $1.
cell_colours() {
	pamtopnm < "$1" | pnmnoraw | tail -n +4 | tr -s ' \n' '\n' |
	    grep . | paste - - - > "$T/rgb"
	pamchannel -tupletype GRAYSCALE 3 < "$1" | pamtopnm | pnmnoraw |
	    tail -n +4 | tr -s ' \n' '\n' | grep . > "$T/a"
	paste "$T/rgb" "$T/a" | awk '$4 == 255 { print $1, $2, $3 }' | sort -u
}

@test "black mode: the cell's edge pixels keep the cell's colour, no dark rim" {
	disc_on 0,0,0 > "$T/in.ppm"
	crop-cells -M black -c Healthy_RBC -s 0.45 -q "$T/in.ppm" > "$T/out.pam"
	assert_clean_samples "$T/out.pam"
	run cell_colours "$T/out.pam"
	[ "$output" = "200 150 150" ]
}

@test "mask mode: the cell's edge pixels mix with the photo around it" {
	disc_on 100,100,100 > "$T/in.ppm"
	disc_on mask > "$T/in.pgm"
	cat "$T/in.ppm" "$T/in.pgm" |
	    crop-cells -M mask -c Healthy_RBC -s 0.45 -q > "$T/out.pam"
	cell_colours "$T/out.pam" > "$T/colours"
	grep -qx "200 150 150" "$T/colours"
	# edge pixels lie between the cell and the photo around it
	awk '$1 < 200 && $1 > 100 && $2 < 150 && $2 > 100 { n++ }
	    END { exit !(n > 0) }' "$T/colours"
}
