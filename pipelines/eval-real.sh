#!/bin/sh
# eval-real.sh - score a model on real images only: held-out BCCD smears,
# BBBC041Seg masks, the test split's white cells in their whole original
# images, and its NIH red cells; and, as a sanity check, the synthetic
# test split.
#
# usage: sh pipelines/eval-real.sh [-j threads] [-s sources-dir]
#            [-d dataset-dir] [-k keep-dir] [-n count] [-S split] [-t] [-R]
#            MODEL...
#
# Several MODELs are scored as one ensemble: unet-infer -m for each, their
# class probabilities averaged window by window.
#
#   -j N     unet-infer threads (default 2)
#   -t       unet-infer --tta: every window averaged over its 8 flips and
#            quarter turns (8 times the inference time)
#   -R       score the network's raw class maps; by default every class
#            map goes through cell-vote(1) first (one class per white
#            cell, platelet and red cell), as smear-segment gives them
#            (BBBC041Seg too: there the vote's specks, small blobs of
#            red-cell pixels in the plasma, become background)
#   -s DIR   the external sources (default ../shared/data/sources beside
#            the project root): BBBC041Seg (DIR/eval_bbbc041seg), and the
#            PBC and zxaoyou originals where share/blocks lacks them
#   -d DIR   the dataset (default dataset/ in the project root): needs
#            samples.test.pam (parts 3, 4; part 1 with -S val) and
#            test.pam (part 5)
#   -k DIR   keep the inputs, class maps and per-box / per-cell tables
#            (TSV, one header line) there, by part: bccd/, crops/, nih/,
#            bbbc041/, synthetic/, and figures.txt (standard output)
#   -n N     only the first N of each part's items (smears, cells,
#            BBBC041 images, synthetic tiles), for quick tests
#   -S SPLIT test (default) or val.  With val, part 1 scores the
#            validation split's BCCD smears instead of the held-out ones,
#            parts 3 to 5 the validation split's samples and tiles
#            (samples.val.pam, val.pam), and part 2, a held-out set, is
#            skipped: the figures that may choose between recipes or
#            runs without any held-out image taking part.
#
# Standard output: one line per figure, "eval: NAME VALUE".  Shares are
# fractions in [0, 1] with 3 decimals, "nan" where nothing is there to
# divide by (say a class that has no cell in a short run); counts are
# integers.  The headline shares (BCCD's three, the crops' accuracy, the
# NIH balanced accuracy) come with a 95 % interval, NAME_lo95 and
# NAME_hi95: Wilson's score interval of a binomial share, and for the
# balanced accuracy, the mean of two such shares, the MOVER interval
# built from theirs (Zou and Donner 2008).  They take each box or cell
# as an independent draw; the boxes of one smear, or the cells of one
# patient, are not quite, so the true uncertainty is if anything wider.
# Messages go to standard error as "eval-real.sh: ...".  A
# part whose data is missing says so on standard error and is skipped;
# nothing is made up for it.  All images go to the 40x scale, where a
# healthy red cell is about 38 px across, and through unet-infer -j N.
#
# A class call is always a majority vote over a set of pixels of the
# predicted class map, among the pixels whose predicted class is one of
# the classes that part allows to vote; ties go to the lower class index
# (classes: share/classes.yaml, 1-5 white cells, 6 Thrombocyte,
# 7 Platelet clump, 8 Infected RBC, 9 Healthy RBC).
#
# 1. BCCD held-out smears: share/eval/bccd (40 smears no training stage
#    uses; share/eval/README.md), normal blood, no malaria.  With -S val,
#    the smears of share/blocks/bccd all of whose samples are in
#    DATASET/samples.val.pam instead (9 with the default seed): no
#    training tile shows them, only the validation split's.  Each smear
#    is scaled by 0.36 (pamscale; BCCD's factor in pipelines/blocks.sh)
#    and segmented whole (overlapping windows).  Each Pascal VOC box is
#    scaled by the same factor (the pixels whose centres lie in it) and
#    called by its majority class, classes 1-9 voting (background does
#    not vote; a box with no pixel of classes 1-9 is background).
#      bccd_images, bccd_wbc_boxes, bccd_platelet_boxes, bccd_rbc_boxes
#                                 counts
#      bccd_wbc_recall            WBC boxes called a white cell (1-5)
#      bccd_platelet_recall       Platelets boxes called Thrombocyte or
#                                 Platelet clump (6, 7)
#      bccd_rbc_infected_rate     RBC boxes called Infected RBC (8): all
#                                 false, since BCCD has no malaria
#                                 (each of the three with _lo95, _hi95)
#      bccd_wbc_called_CLASS      for the five white classes: the share
#                                 of CLASS among the WBC boxes called a
#                                 white cell (BCCD names no type, but
#                                 most of its white cells are
#                                 neutrophils)
#      bccd_wbc_count_mae         mean over smears of |white cells that
#                                 cell-count finds in the class map -
#                                 WBC boxes|
#      bccd_parasitemia_median_pct, bccd_parasitemia_p90_pct
#                                 median and 90th percentile (nearest
#                                 rank) over smears of cell-count's
#                                 parasitemia, in percent (its true
#                                 value is 0); smears where cell-count
#                                 finds no red cell are left out
#    cell-count runs with its default minimum areas, which are for the
#    40x scale.
#
# 2. BBBC041Seg (SOURCES/eval_bbbc041seg), cell vs background, by
#    pipelines/eval-bbbc041.sh (scale 0.32; every class but background
#    counts as cell):
#      bbbc041_images             count
#      bbbc041_cell_iou, bbbc041_cell_dice
#
# 3. White cells of the test split in their whole original image: every
#    sample of DATASET/samples.test.pam whose source is pbc, zxaoyou1 or
#    zxaoyou2 and whose class is a white cell.  Its id names the
#    original (pbc/FOLDER/NAME: pbc_acevedo/FOLDER/NAME.jpg; zxaoyouK/NNN:
#    zxaoyou_segmentation_WBC/datasetK/NNN.bmp.png in share/blocks, or
#    NNN.bmp in SOURCES), in which the cell is at the centre.  The whole
#    image is scaled by the sample's own scale (its "scale" metadata).
#    These images are smaller than the network's window (224 px; zxaoyou1
#    about 100 px), and unet-infer would put such an image in the corner
#    of its window and fill the rest with the training mean colour; so
#    each image is padded, centred, to the window size (where it is
#    smaller) with the mean colour of its own one-pixel border.  The cell
#    is called by the majority over a disc of radius 12 px at the image
#    centre, white classes (1-5) voting; no such pixel is "not found",
#    counted as wrong.
#      crops_wbc_n, crops_wbc_n_pbc, crops_wbc_n_zxaoyou, crops_wbc_not_found
#                                 counts (zxaoyou = zxaoyou1 + zxaoyou2)
#      crops_wbc_accuracy         share called their true class, 5 classes
#                                 (with _lo95, _hi95)
#      crops_wbc_accuracy_pbc, crops_wbc_accuracy_zxaoyou  the same by source
#      crops_wbc_recall_CLASS     for the five white classes: share of the
#                                 cells of CLASS called CLASS
#
# 4. NIH red cells of the test split: every sample of source nih (Healthy
#    RBC or Infected RBC: the cell on a transparent margin, already at
#    the 40x scale), composited by its alpha at the centre of a plain
#    canvas of the window size, and segmented, all in one stream.  The
#    NIH crops keep nothing of their photo's plasma, and their colour
#    cast is the camera's (one slide photographed through two cameras
#    gives bluish cells in one and pink ones in the other), so the
#    canvas is the plasma the cell's own photo would show: its median
#    colour (alpha >= 128) over the mean red-cell / plasma ratio of the
#    real smear sources, 0.85 0.73 0.81 (make-background(1)), capped at
#    255.  Each cell is also scored on one fixed pinkish-grey canvas
#    (RGB 225,215,212; the canvas of every NIH figure recorded up to
#    v13), where a bluish photo's cell lies far bluer than its plasma
#    (blue over red 1.1 to 1.5 times the plasma's; the real smear
#    sources' red cells 0.89 to 1.02 times).  The cell is called by the majority over its
#    own mask (alpha >= 128), Infected RBC (8) and Healthy RBC (9)
#    voting; no such pixel counts as wrong.
#      nih_n, nih_n_infected, nih_n_healthy    counts
#      nih_recall_infected, nih_recall_healthy
#      nih_balanced_accuracy      the mean of the two recalls (with _lo95,
#                                 _hi95)
#      nih_fixed_recall_infected, nih_fixed_recall_healthy,
#      nih_fixed_balanced_accuracy   the same on the fixed canvas
#
# 5. The synthetic test split, DATASET/test.pam (sanity check only),
#    unet-infer then seg-eval:
#      synthetic_tiles            count
#      synthetic_mean_iou, synthetic_pixel_accuracy
#
# The programs are taken from bin/ beside this script first, then PATH.
# Needs the Netpbm tools (jpegtopnm, pngtopam, bmptopnm, pamscale,
# pamcomp, pamsplit, ...) and POSIX sh, awk, sed and tr.

set -eu

prog=eval-real.sh
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
share=${SMEARSEG_SHARE:-$top/share}

threads=2
sources=$top/../shared/data/sources
dataset=$top/dataset
keep=
limit=
tta=
vote=1
split=test

say() { echo "$prog: $*" >&2; }
die() { say "$@"; exit 1; }
usage() {
	echo "usage: sh pipelines/eval-real.sh [-j threads] [-s sources-dir]" \
	    "[-d dataset-dir] [-k keep-dir] [-n count] [-S split] [-t] [-R]" \
	    "MODEL..." >&2
	exit 1
}
posint() {
	case $2 in
	'' | *[!0-9]* | 0) die "-$1 $2: expected a positive integer" ;;
	esac
}

while getopts ':j:s:d:k:n:S:tR' opt; do
	case $opt in
	j) posint j "$OPTARG"; threads=$OPTARG ;;
	s) sources=$OPTARG ;;
	d) dataset=$OPTARG ;;
	k) keep=$OPTARG ;;
	n) posint n "$OPTARG"; limit=$OPTARG ;;
	S) case $OPTARG in
	   test | val) split=$OPTARG ;;
	   *) die "-S $OPTARG: expected test or val" ;;
	   esac ;;
	t) tta=-t ;;
	R) vote= ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
# the models, newest first (with_models puts them back in order)
models=
for m in "$@"; do
	case $m in
	*'
'*) die "a model file name with a newline" ;;
	esac
	[ -f "$m" ] || die "$m: no such model file"
	cfg=$(tensor-info -m "$m" 2>&1) || die "$(printf '%s\n' "$cfg" | head -n 1)"
	w=$(printf '%s\n' "$cfg" |
	    sed -n 's/^unet\.config=.*input_size: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
	[ -n "$w" ] || die "$m: no model input_size in its metadata"
	win=${win:-$w}
	models="$m
$models"
done
[ ! -d "$sources" ] || sources=$(cd "$sources" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eval-real.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	: >"$keep/figures.txt"
fi

# awk functions for the figures: share(A, B), A/B as a figure; ci(NAME, A,
# B), the 95 % Wilson interval of A successes in B as NAME_lo95 and
# NAME_hi95; ci_mean2(NAME, A1, B1, A2, B2), the MOVER interval of the mean
# of two such shares.
STATS_AWK='
function share(a, b) { return b == 0 ? "nan" : sprintf("%.3f", a / b) }
function wilson(a, b,   z, p, c, h) {
	z = 1.959964; p = a / b
	c = (p + z * z / (2 * b)) / (1 + z * z / b)
	h = z * sqrt(p * (1 - p) / b + z * z / (4 * b * b)) / (1 + z * z / b)
	WLO = c - h; WHI = c + h
	if (WLO < 0) WLO = 0
	if (WHI > 1) WHI = 1
}
function ci_print(name, lo, hi) {
	print name "_lo95", lo == "nan" ? lo : sprintf("%.3f", lo)
	print name "_hi95", hi == "nan" ? hi : sprintf("%.3f", hi)
}
function ci(name, a, b) {
	if (b == 0) { ci_print(name, "nan", "nan"); return }
	wilson(a, b)
	ci_print(name, WLO, WHI)
}
function ci_mean2(name, a1, b1, a2, b2,   p1, p2, l1, u1, l2, u2) {
	if (b1 == 0 || b2 == 0) { ci_print(name, "nan", "nan"); return }
	p1 = a1 / b1; p2 = a2 / b2
	wilson(a1, b1); l1 = WLO; u1 = WHI
	wilson(a2, b2); l2 = WLO; u2 = WHI
	ci_print(name, (p1 + p2) / 2 - sqrt((p1 - l1) ^ 2 + (p2 - l2) ^ 2) / 2,
	    (p1 + p2) / 2 + sqrt((u1 - p1) ^ 2 + (u2 - p2) ^ 2) / 2)
}
'

# The five white-cell classes, index order (share/classes.yaml).
WHITE="Eosinophil Basophil Neutrophil Lymphocyte Monocyte"

# emit NAME VALUE: a figure line (also into KEEP/figures.txt).
emit() {
	echo "eval: $1 $2"
	[ -z "$keep" ] || echo "eval: $1 $2" >>"$keep/figures.txt"
}
# emit_file FILE: the "NAME VALUE" lines of FILE as figures.
emit_file() {
	while read -r name value; do emit "$name" "$value"; done <"$1"
}
# first N lines of standard input (all without -n)
head_n() { if [ -n "$limit" ]; then head -n "$limit"; else cat; fi; }
# with_models CMD ARGS...: CMD -m MODEL... ARGS (CMD a single word)
with_models() {
	_cmd=$1
	shift
	set -f
	IFS='
'
	for _m in $models; do set -- -m "$_m" "$@"; done
	unset IFS
	set +f
	"$_cmd" "$@"
}
# eval_bbbc041 ARGS...: pipelines/eval-bbbc041.sh
eval_bbbc041() { sh "$top/pipelines/eval-bbbc041.sh" "$@"; }
# infer IN OUT: segment a stream of images
infer() {
	if [ -n "$vote" ]; then
		with_models unet-infer -q $tta -j "$threads" "$1" >"$2.raw"
		cell-vote -q "$2.raw" >"$2"
	else
		with_models unet-infer -q $tta -j "$threads" "$1" >"$2"
	fi
}
# tokens FILE: a Netpbm stream as plain PNM, one token per line
tokens() { pnmtoplainpnm "$1" | tr -s ' \t\n' '\n\n\n'; }
# size FILE: "WIDTH HEIGHT" of a Netpbm image
size() { pamfile -size "$1"; }
# own_plasma SAMPLE NAME: "RR/GG/BB" (hex), the plasma of the photo of the
# red cell of SAMPLE (RGB_ALPHA; NAME for messages): its median colour
# over the pixels of alpha >= 128, channel by channel, over the mean
# red-cell / plasma ratio of the real smear sources (rbc_ratio of
# make-background.c), capped at 255
own_plasma() {
	pamtable "$1" | tr '|' '\n' | awk -v f="$2" '
	NF == 4 && $4 >= 128 { h[0, $1]++; h[1, $2]++; h[2, $3]++; n++ }
	END {
		if (n == 0) {
			print "eval-real.sh: " f ": no cell pixel" > "/dev/stderr"
			exit 1
		}
		split("0.85 0.73 0.81", ratio, " ")
		for (c = 0; c < 3; c++) {
			acc = 0
			for (v = 0; v < 255; v++)
				if (2 * (acc += h[c, v]) >= n)
					break
			p[c] = int(v / ratio[c + 1] + 0.5)
			if (p[c] > 255)
				p[c] = 255
		}
		printf "%02x/%02x/%02x\n", p[0], p[1], p[2]
	}'
}
# keepfiles PART FILE...: copy into KEEP/PART
keepfiles() {
	[ -n "$keep" ] || return 0
	part=$1
	shift
	mkdir -p "$keep/$part"
	cp "$@" "$keep/$part/"
}

# vote PRED REGIONS CLASSES [MASKS]: the majority class of regions of
# class maps.  PRED (and MASKS) are PGM streams as tokens; REGIONS has
# lines "IMAGE KEY box X0 Y0 X1 Y1" (inclusive), "IMAGE KEY disc CX CY R"
# or "IMAGE KEY mask DX DY" (the pixels >= 128 of image IMAGE of MASKS,
# placed at DX,DY), IMAGE counted from 1, in ascending order.  Only pixels
# of a class in the ascending comma list CLASSES vote; ties go to the
# lower class.  Prints "KEY CALLED VOTES PIXELS": CALLED the class index,
# or "none" if no pixel voted; VOTES its pixels; PIXELS those of the
# region in the image.
vote() {
	awk -v pred="$1" -v regions="$2" -v classes="$3" -v masks="${4:-}" '
	function fail(f) {
		print "eval-real.sh: " f ": not a plain PGM stream" > "/dev/stderr"
		exit 1
	}
	function readimg(f, a,    t, n, i) {
		if ((getline t < f) <= 0)
			fail(f)
		if (t != "P2")
			fail(f)
		getline a["w"] < f
		getline a["h"] < f
		getline t < f
		n = a["w"] * a["h"]
		for (i = 0; i < n; i++)
			if ((getline a[i] < f) <= 0)
				fail(f)
	}
	function tally(x, y,    v) {
		if (x < 0 || y < 0 || x >= P["w"] || y >= P["h"])
			return
		npx++
		v = P[y * P["w"] + x] + 0
		if (v in voting)
			cnt[v]++
	}
	BEGIN {
		nc = split(classes, cl, ",")
		for (k = 1; k <= nc; k++)
			voting[cl[k] + 0] = 1
		img = 0
		while ((getline line < regions) > 0) {
			split(line, r, " ")
			while (img < r[1] + 0) {
				readimg(pred, P)
				if (masks != "")
					readimg(masks, M)
				img++
			}
			split("", cnt)
			npx = 0
			if (r[3] == "box") {
				for (y = r[5]; y <= r[7]; y++)
					for (x = r[4]; x <= r[6]; x++)
						tally(x, y)
			} else if (r[3] == "disc") {
				cx = r[4]; cy = r[5]; rr = r[6]
				for (y = int(cy - rr); y <= cy + rr + 1; y++)
					for (x = int(cx - rr); x <= cx + rr + 1; x++)
						if ((x - cx) ^ 2 + (y - cy) ^ 2 <= rr ^ 2)
							tally(x, y)
			} else {
				for (y = 0; y < M["h"]; y++)
					for (x = 0; x < M["w"]; x++)
						if (M[y * M["w"] + x] >= 128)
							tally(x + r[4], y + r[5])
			}
			best = "none"
			for (k = 1; k <= nc; k++)
				if (cnt[cl[k] + 0] > (best == "none" ? 0 : cnt[best]))
					best = cl[k] + 0
			print r[2], best, (best == "none" ? 0 : cnt[best]), npx
		}
	}'
}

# pad IN OUT: IN (PPM) centred on a canvas of at least the window size
# in the mean colour of IN's one-pixel border; prints "LEFT TOP" (IN's
# offset) and "WIDTH HEIGHT" (IN's size).
pad() {
	set -- "$1" "$2" $(tokens "$1" | awk -v win="$win" '
	NR == 2 { w = $1 } NR == 3 { h = $1 }
	NR > 4 {
		p = int((NR - 5) / 3); x = p % w; y = int(p / w)
		if (x == 0 || y == 0 || x == w - 1 || y == h - 1) {
			s[(NR - 5) % 3] += $1; n++
		}
	}
	END {
		n /= 3; W = w > win ? w : win; H = h > win ? h : win
		printf "%d %d %d %d %d %d rgb:%02x/%02x/%02x\n", w, h, W, H,
		    (W - w) / 2, (H - h) / 2, int(s[0] / n + 0.5),
		    int(s[1] / n + 0.5), int(s[2] / n + 0.5)
	}')
	ppmmake "$9" "$5" "$6" >"$tmp/canvas.ppm"
	pamcomp -xoff "$7" -yoff "$8" "$1" "$tmp/canvas.ppm" | pamtopnm >"$2"
	echo "$7 $8 $3 $4"
}

ran=0
samples=$dataset/samples.$split.pam

# --- 1. BCCD smears: the held-out ones, or the validation split's -----------
# bccd.list: a NAME per smear; $bccd holds Annotations/NAME.xml and
# JPEGImages/NAME.jpg
bccd_scale=0.36
if [ "$split" = test ]; then
	bccd=$share/eval/bccd
	ls "$bccd"/Annotations/*.xml 2>/dev/null |
	    sed 's|.*/||; s|\.xml$||' | head_n >"$tmp/bccd.list"
	[ -s "$tmp/bccd.list" ] ||
	    say "BCCD: $bccd/Annotations: no held-out smears, skipped"
elif [ ! -f "$samples" ]; then
	: >"$tmp/bccd.list"
	say "BCCD: $samples: missing (make $samples), skipped"
else
	# the smears all of whose samples are in the validation split
	# (split-dataset keeps a smear's samples together)
	bccd=$share/blocks/bccd
	grep -a '^#group: bccd/' "$samples" | sed 's|^#group: bccd/||' |
	    sort -u | head_n >"$tmp/bccd.list"
	[ -s "$tmp/bccd.list" ] ||
	    say "BCCD: $samples: no BCCD smear in the $split split, skipped"
fi
if [ -s "$tmp/bccd.list" ]; then
	d=$tmp/bccd
	mkdir -p "$d"
	: >"$d/images.ppm"
	: >"$d/boxes"
	i=0
	while read -r name; do
		xml=$bccd/Annotations/$name.xml
		jpg=$bccd/JPEGImages/$name.jpg
		[ -f "$xml" ] || die "$xml: missing (the boxes of $name)"
		[ -f "$jpg" ] || die "$jpg: missing (its boxes are $xml)"
		i=$((i + 1))
		jpegtopnm -quiet "$jpg" >"$d/orig.ppm"
		pamscale "$bccd_scale" "$d/orig.ppm" >"$d/one.ppm"
		cat "$d/one.ppm" >>"$d/images.ppm"
		echo "$name" >>"$d/names"
		# VOC boxes count pixels from 1, inclusive: [xmin - 1, xmax) in
		# continuous coordinates, scaled; the pixels whose centres fall
		# in it (at least one), clipped to the image
		awk -f "$top/pipelines/voc.awk" "$xml" |
		awk -v img="$i" -v name="$name" -v orig="$(size "$d/orig.ppm")" \
		    -v new="$(size "$d/one.ppm")" '
		function ceil(v) { return v == int(v) ? v : (v > 0 ? int(v) + 1 : int(v)) }
		function span(a, b, s, n,    lo, hi) {
			lo = ceil((a - 1) * s - 0.5); hi = ceil(b * s - 0.5) - 1
			if (lo < 0) lo = 0
			if (hi > n - 1) hi = n - 1
			if (lo > n - 1) lo = n - 1
			if (hi < lo) hi = lo
			return lo " " hi
		}
		BEGIN {
			split(orig, o, " "); split(new, m, " ")
			sx = m[1] / o[1]; sy = m[2] / o[2]
		}
		{
			split(span($2, $4, sx, m[1]), X, " ")
			split(span($3, $5, sy, m[2]), Y, " ")
			print img, name "#" ++k, "box", X[1], Y[1], X[2], Y[2], $1
		}' >>"$d/boxes"
	done <"$tmp/bccd.list"
	say "BCCD: segmenting $i smears"
	infer "$d/images.ppm" "$d/pred.pgm"
	tokens "$d/pred.pgm" >"$d/pred.tok"
	cut -d' ' -f1-7 "$d/boxes" >"$d/regions"
	vote "$d/pred.tok" "$d/regions" 1,2,3,4,5,6,7,8,9 >"$d/votes"
	cell-count --tsv "$d/pred.pgm" >"$d/counts.tsv"
	# boxes.tsv: one line per box
	paste -d' ' "$d/boxes" "$d/votes" | awk -v white="$WHITE" '
	BEGIN {
		OFS = "\t"
		n = split("background " white " Thrombocyte Platelet_clump Infected_RBC Healthy_RBC", cname, " ")
		print "image", "box", "truth", "x0", "y0", "x1", "y1", "called", "votes", "pixels"
	}
	{
		split($2, id, "#")
		called = $10 == "none" ? "background" : cname[$10 + 1]
		print id[1], id[2], $8, $4, $5, $6, $7, called, $11, $12
	}' >"$d/boxes.tsv"
	awk -F'\t' -v white="$WHITE" -v counts="$d/counts.tsv" \
	    -v names="$d/names" "$STATS_AWK"'
	BEGIN {
		nw = split(white, W, " ")
		for (k = 1; k <= nw; k++) isw[W[k]] = 1
		while ((getline line < names) > 0) order[++nimg] = line
	}
	NR > 1 {
		if ($3 == "WBC") {
			wbc++; wboxes[$1]++
			if ($8 in isw) { found++; called[$8]++ }
		} else if ($3 == "Platelets") {
			plt++
			if ($8 == "Thrombocyte" || $8 == "Platelet_clump") pfound++
		} else if ($3 == "RBC") {
			rbc++
			if ($8 == "Infected_RBC") inf++
		}
	}
	END {
		# cell-count --tsv: a header, then one line per image in order
		getline hdr < counts
		nh = split(hdr, H, "\t")
		for (k = 1; k <= nh; k++) col[H[k]] = k
		ni = 0; np = 0; err = 0
		while ((getline line < counts) > 0) {
			split(line, c, "\t"); ni++
			d = c[col["wbc"]] - wboxes[order[ni]]
			err += d < 0 ? -d : d
			if (c[col["parasitemia"]] != "null")
				para[++np] = c[col["parasitemia"]] + 0
		}
		# sort the parasitemias (insertion sort: a few dozen)
		for (i = 2; i <= np; i++) {
			v = para[i]
			for (j = i - 1; j >= 1 && para[j] > v; j--) para[j + 1] = para[j]
			para[j + 1] = v
		}
		if (np == 0) med = p90 = "nan"
		else {
			med = sprintf("%.2f", np % 2 ? para[(np + 1) / 2] : \
			    (para[np / 2] + para[np / 2 + 1]) / 2)
			r = int(0.9 * np); if (r < 0.9 * np) r++
			p90 = sprintf("%.2f", para[r])
		}
		print "bccd_images", nimg
		print "bccd_wbc_boxes", wbc
		print "bccd_platelet_boxes", plt
		print "bccd_rbc_boxes", rbc
		print "bccd_wbc_recall", share(found, wbc)
		ci("bccd_wbc_recall", found, wbc)
		print "bccd_platelet_recall", share(pfound, plt)
		ci("bccd_platelet_recall", pfound, plt)
		print "bccd_rbc_infected_rate", share(inf, rbc)
		ci("bccd_rbc_infected_rate", inf, rbc)
		for (k = 1; k <= nw; k++)
			print "bccd_wbc_called_" W[k], share(called[W[k]], found)
		print "bccd_wbc_count_mae", ni ? sprintf("%.3f", err / ni) : "nan"
		print "bccd_parasitemia_median_pct", med
		print "bccd_parasitemia_p90_pct", p90
	}' "$d/boxes.tsv" >"$d/figures"
	emit_file "$d/figures"
	keepfiles bccd "$d/images.ppm" "$d/pred.pgm" "$d/boxes.tsv" \
	    "$d/counts.tsv" "$d/names"
	ran=$((ran + 1))
fi

# --- 2. BBBC041Seg -----------------------------------------------------------
bbbc=$sources/eval_bbbc041seg
if [ "$split" != test ]; then
	say "BBBC041Seg: held out, not scored with -S $split"
elif ! ls "$bbbc"/images/*.png >/dev/null 2>&1; then
	say "BBBC041Seg: $bbbc/images: no images, skipped"
else
	d=$tmp/bbbc041
	mkdir -p "$d/in/images" "$d/in/masks"
	n=0
	ls "$bbbc"/images/*.png | head_n >"$d/list"
	while read -r img; do
		ln -s "$img" "$d/in/images/"
		ln -s "$bbbc/masks/$(basename "$img")" "$d/in/masks/"
		n=$((n + 1))
	done <"$d/list"
	say "BBBC041Seg: segmenting $n smears"
	THREADS=$threads VOTE=${vote:-0} TTA=${tta:+1} \
	    with_models eval_bbbc041 "$d/in" \
	    0.32 "$d/out" >"$d/report.yaml"
	awk '
	/^images:/ { print "bbbc041_images", $2 }
	/^[a-z]/ { sect = $1 }
	sect == "iou:" && $1 == "cell:" { iou = $2 }
	sect == "dice:" && $1 == "cell:" { dice = $2 }
	END {
		print "bbbc041_cell_iou", iou == "null" || iou == "" ? "nan" : sprintf("%.3f", iou)
		print "bbbc041_cell_dice", dice == "null" || dice == "" ? "nan" : sprintf("%.3f", dice)
	}' "$d/report.yaml" >"$d/figures"
	emit_file "$d/figures"
	if [ -n "$keep" ]; then
		mkdir -p "$keep/bbbc041"
		cp "$d/report.yaml" "$d"/out/*.pgm "$d"/out/images.ppm "$keep/bbbc041/"
	fi
	ran=$((ran + 1))
fi

# --- the split's samples: metadata, one line each ----------------------------
if [ -f "$samples" ]; then
	# "INDEX CLASS SOURCE ID SCALE" (from 1, spaces in classes as _);
	# the keys are "#key: value" header comments (crop-cells(1))
	grep -a -E '^#(class|source|id|scale): ' "$samples" | awk '
	function flush() { if (n) print n, c, s, i, sc }
	{ k = $1; v = substr($0, length(k) + 2); gsub(/ /, "_", v) }
	k == "#class:" { flush(); n++; c = v; s = i = sc = "-" }
	k == "#source:" { s = v }
	k == "#id:" { i = v }
	k == "#scale:" { sc = v }
	END { flush() }' >"$tmp/meta"
	count=$(pamfile -count "$samples" | sed 's/.*:[[:space:]]*\([0-9]*\).*/\1/')
	[ "$(wc -l <"$tmp/meta" | tr -d ' ')" = "$count" ] ||
	    die "$samples: $count images but $(wc -l <"$tmp/meta" | tr -d ' ') with a class"
fi
is_white() {
	for c in $WHITE; do [ "$1" = "$c" ] && return 0; done
	return 1
}

# --- 3. the test split's white cells in their original images ---------------
if [ ! -f "$samples" ]; then
	say "crops: $samples: missing (make $samples), skipped"
else
	d=$tmp/crops
	mkdir -p "$d"
	: >"$d/images.ppm"
	: >"$d/regions"
	: >"$d/cells"
	zx=zxaoyou_segmentation_WBC
	n=0 missing=0
	while read -r idx cls src id scale; do
		is_white "$cls" || continue
		f=
		case $src in
		pbc)
			for f in "$share/blocks/pbc_acevedo/${id#pbc/}.jpg" \
			    "$sources/pbc_acevedo/${id#pbc/}.jpg" ""; do
				[ -z "$f" ] || [ -f "$f" ] && break
			done
			read_img() { jpegtopnm -quiet "$1"; } ;;
		zxaoyou1 | zxaoyou2)
			sub="dataset${src#zxaoyou}" num=${id#*/}
			for f in "$share/blocks/$zx/$sub/$num.bmp.png" \
			    "$sources/$zx/$sub/$num.bmp" ""; do
				[ -z "$f" ] || [ -f "$f" ] && break
			done
			read_img() { case $1 in
				*.png) pngtopam "$1" ;;
				*) bmptopnm "$1" 2>/dev/null ;;
				esac; } ;;
		*) continue ;;
		esac
		if [ -n "$limit" ] && [ "$((n + missing))" -ge "$limit" ]; then
			break
		fi
		if [ -z "$f" ]; then
			missing=$((missing + 1))
			continue
		fi
		n=$((n + 1))
		read_img "$f" | pamscale "$scale" >"$d/one.ppm"
		set -- $(pad "$d/one.ppm" "$d/padded.ppm")
		cat "$d/padded.ppm" >>"$d/images.ppm"
		# the centre of the scaled image, in the padded one
		awk -v n="$n" -v id="$id" -v l="$1" -v t="$2" -v w="$3" -v h="$4" \
		    'BEGIN { print n, id, "disc", l + (w - 1) / 2, t + (h - 1) / 2, 12 }' \
		    >>"$d/regions"
		echo "$id $src $cls $scale" >>"$d/cells"
	done <"$tmp/meta"
	[ "$missing" -eq 0 ] || say "crops: $missing white cells skipped: their" \
	    "originals are neither in $share/blocks nor in $sources"
	if [ "$n" -eq 0 ]; then
		say "crops: $samples: no pbc or zxaoyou white cell with its original, skipped"
	else
		say "crops: segmenting $n white cells in their original images"
		infer "$d/images.ppm" "$d/pred.pgm"
		tokens "$d/pred.pgm" >"$d/pred.tok"
		vote "$d/pred.tok" "$d/regions" 1,2,3,4,5 >"$d/votes"
		paste -d' ' "$d/cells" "$d/votes" | awk -v white="$WHITE" '
		BEGIN {
			OFS = "\t"; split(white, W, " ")
			print "id", "source", "truth", "scale", "called", "votes", "pixels"
		}
		{ print $1, $2, $3, $4, $6 == "none" ? "not_found" : W[$6], $7, $8 }' \
		    >"$d/cells.tsv"
		awk -F'\t' -v white="$WHITE" "$STATS_AWK"'
		NR > 1 {
			s = $2 == "pbc" ? "pbc" : "zxaoyou"
			n++; ns[s]++; nc[$3]++
			if ($5 == $3) { ok++; oks[s]++; okc[$3]++ }
			if ($5 == "not_found") nf++
		}
		END {
			nw = split(white, W, " ")
			print "crops_wbc_n", n
			print "crops_wbc_n_pbc", ns["pbc"] + 0
			print "crops_wbc_n_zxaoyou", ns["zxaoyou"] + 0
			print "crops_wbc_not_found", nf + 0
			print "crops_wbc_accuracy", share(ok, n)
			ci("crops_wbc_accuracy", ok, n)
			print "crops_wbc_accuracy_pbc", share(oks["pbc"], ns["pbc"])
			print "crops_wbc_accuracy_zxaoyou", share(oks["zxaoyou"], ns["zxaoyou"])
			for (k = 1; k <= nw; k++)
				print "crops_wbc_recall_" W[k], share(okc[W[k]], nc[W[k]])
		}' "$d/cells.tsv" >"$d/figures"
		emit_file "$d/figures"
		keepfiles crops "$d/images.ppm" "$d/pred.pgm" "$d/cells.tsv"
		ran=$((ran + 1))
	fi
fi

# --- 4. the test split's NIH red cells on plasma -----------------------------
if [ ! -f "$samples" ]; then
	say "NIH: $samples: missing (make $samples), skipped"
elif ! awk '$3 == "nih" { found = 1 } END { exit !found }' "$tmp/meta"; then
	say "NIH: $samples: no nih sample, skipped"
else
	d=$tmp/nih
	mkdir -p "$d/split"
	pamsplit "$samples" "$d/split/s%d.pam" 2>/dev/null
	: >"$d/images.ppm"
	: >"$d/images-fixed.ppm"
	: >"$d/masks.pgm"
	: >"$d/regions"
	: >"$d/cells"
	n=0
	awk '$3 == "nih"' "$tmp/meta" | head_n >"$d/list"
	while read -r idx cls src id scale; do
		n=$((n + 1))
		s=$d/split/s$((idx - 1)).pam
		set -- $(size "$s")
		W=$(( $1 > win ? $1 : win )) H=$(( $2 > win ? $2 : win ))
		l=$(( (W - $1) / 2 )) t=$(( (H - $2) / 2 ))
		plasma=$(own_plasma "$s" "$samples: image $idx")
		ppmmake "rgb:$plasma" "$W" "$H" >"$d/canvas.ppm"
		pamcomp -xoff "$l" -yoff "$t" "$s" "$d/canvas.ppm" |
		    pamtopnm >>"$d/images.ppm"
		ppmmake rgb:e1/d7/d4 "$W" "$H" >"$d/canvas.ppm"
		pamcomp -xoff "$l" -yoff "$t" "$s" "$d/canvas.ppm" |
		    pamtopnm >>"$d/images-fixed.ppm"
		pamchannel -tupletype GRAYSCALE 3 <"$s" | pamtopnm >>"$d/masks.pgm"
		echo "$n $id mask $l $t" >>"$d/regions"
		echo "$id $cls $plasma" >>"$d/cells"
	done <"$d/list"
	say "NIH: segmenting $n red cells, on their photos' plasma and on a fixed one"
	infer "$d/images.ppm" "$d/pred.pgm"
	infer "$d/images-fixed.ppm" "$d/pred-fixed.pgm"
	tokens "$d/masks.pgm" >"$d/masks.tok"
	tokens "$d/pred.pgm" >"$d/pred.tok"
	vote "$d/pred.tok" "$d/regions" 8,9 "$d/masks.tok" >"$d/votes"
	tokens "$d/pred-fixed.pgm" >"$d/pred.tok"
	vote "$d/pred.tok" "$d/regions" 8,9 "$d/masks.tok" >"$d/votes-fixed"
	# id truth plasma KEY called votes pixels KEY called votes pixels
	paste -d' ' "$d/cells" "$d/votes" "$d/votes-fixed" | awk '
	function name(c) {
		return c == 8 ? "Infected_RBC" : c == 9 ? "Healthy_RBC" : "not_found"
	}
	BEGIN {
		OFS = "\t"
		print "id", "truth", "called", "votes", "pixels", "plasma",
		    "called_fixed", "votes_fixed"
	}
	{ print $1, $2, name($5), $6, $7, $3, name($9), $10 }' >"$d/cells.tsv"
	awk -F'\t' "$STATS_AWK"'
	function figures(pre, ok,    ri, rh) {
		ri = share(ok["Infected_RBC"], n["Infected_RBC"])
		rh = share(ok["Healthy_RBC"], n["Healthy_RBC"])
		print pre "_recall_infected", ri
		print pre "_recall_healthy", rh
		print pre "_balanced_accuracy", ri == "nan" || rh == "nan" ? \
		    "nan" : sprintf("%.3f", (ri + rh) / 2)
		ci_mean2(pre "_balanced_accuracy", ok["Infected_RBC"],
		    n["Infected_RBC"], ok["Healthy_RBC"], n["Healthy_RBC"])
	}
	NR > 1 {
		n[$2]++
		if ($3 == $2) ok[$2]++
		if ($7 == $2) okf[$2]++
	}
	END {
		print "nih_n", n["Infected_RBC"] + n["Healthy_RBC"]
		print "nih_n_infected", n["Infected_RBC"] + 0
		print "nih_n_healthy", n["Healthy_RBC"] + 0
		figures("nih", ok)
		figures("nih_fixed", okf)
	}' "$d/cells.tsv" >"$d/figures"
	emit_file "$d/figures"
	keepfiles nih "$d/images.ppm" "$d/images-fixed.ppm" "$d/masks.pgm" \
	    "$d/pred.pgm" "$d/pred-fixed.pgm" "$d/cells.tsv"
	ran=$((ran + 1))
fi

# --- 5. the synthetic test split ---------------------------------------------
tiles=$dataset/$split.pam
tiles_name=$tiles
if [ ! -f "$tiles" ]; then
	say "synthetic: $tiles: missing (make $tiles), skipped"
else
	d=$tmp/synthetic
	mkdir -p "$d/split"
	if [ -n "$limit" ]; then
		pamsplit -padname=6 "$tiles" "$d/split/t%d.pam" 2>/dev/null
		ls "$d"/split/t*.pam | head_n | xargs cat >"$d/tiles.pam"
		tiles=$d/tiles.pam
	fi
	say "synthetic: segmenting $(pamfile -count "$tiles" | sed 's/.*:[[:space:]]*//') of $tiles_name"
	infer "$tiles" "$d/pred.pgm"
	seg-eval "$tiles" "$d/pred.pgm" >"$d/report.yaml"
	awk '
	/^images:/ { print "synthetic_tiles", $2 }
	/^mean_iou:/ { print "synthetic_mean_iou", $2 == "null" ? "nan" : sprintf("%.3f", $2) }
	/^pixel_accuracy:/ { print "synthetic_pixel_accuracy", sprintf("%.3f", $2) }
	' "$d/report.yaml" >"$d/figures"
	emit_file "$d/figures"
	keepfiles synthetic "$d/pred.pgm" "$d/report.yaml"
	ran=$((ran + 1))
fi

[ "$ran" -gt 0 ] || die "no part had its data: nothing evaluated"
