#!/bin/sh
# blocks.sh - turn the real building blocks in share/blocks/ into one
# stream of cell samples (PAM RGB_ALPHA, class and provenance attached).
#
# usage: sh pipelines/blocks.sh [-v] [-b blocks-dir] [source...] > samples.pam
#
#   source      zxaoyou1 zxaoyou2 pbc nih bccd (default: all five, in
#               this order); each is cropped by one crop-cells run
#   -b DIR      the blocks directory (default: share/blocks beside this
#               script, or $SMEARSEG_SHARE/blocks)
#   -v          crop-cells names every rejected image
#
# Standard output gets the samples of the sources in the order given;
# standard error one summary line per source ("blocks.sh: pbc: 380
# samples, 8 rejected (...)").  Nothing is written to standard output
# unless every source succeeds; the exit status is 1 if any fails.  The
# sources run in parallel.  crop-cells is $CROP_CELLS if set, else
# bin/crop-cells beside this script if it is built there, else the one on
# PATH.  Needs the Netpbm converters (pngtopam, jpegtopnm) and POSIX sh,
# awk and sed; nothing outside the project.
#
# Each source is turned into a list (ID GROUP CLASS [BOX...], one line
# per image, see crop-cells(1)) and a Netpbm stream in the same order:
#
#   zxaoyou1  mask mode: dataset1/NNN.bmp.png + its mask NNN.png
#   zxaoyou2  the same for dataset2
#   pbc       centre mode: one centred cell per JPEG, no mask
#   nih       black mode: one red cell on black per PNG
#   bccd      box mode: the Platelets boxes of each Pascal VOC file, and
#             the first BCCD_RBC (default 6) RBC boxes as healthy red
#             cells (a second list line per image, id NAME.rbc; the
#             image is streamed twice).  A few per image, so that BCCD's
#             red cells, every one healthy, do not outnumber the NIH
#             cells, which are both healthy and infected.
#
# Ids are SOURCE/PATH (the file's path in its folder, without the
# extension, "#K" added for the Kth box); the group is the NIH slide or
# patient prefix (the name before the first '_', less a camera named
# after "Original": C47P8thin_Original_Motic_IMG_... and
# C47P8thinOriginalOlympusCX21_IMG_... are one slide, C47P8thin,
# photographed through two cameras), and elsewhere the source image
# itself.

# Scale factors to the 40x scale, where a healthy red cell is about 38 px
# across: 38 / (the median red-cell diameter of the source, in px).
#   zxaoyou1  0.85  red cells about 45 px across on the 120x120 tiles (by
#                   eye; they are pale rings, which thresholding misses)
#   zxaoyou2  0.52  median 73 px: round isolated foreground blobs in all
#                   50 images (equivalent diameter, crop-cells' red-cell
#                   segmenter, blobs filling > 90% of their box)
#   pbc       0.51  median 74 px, the same way, over 60 platelet crops;
#                   white cells then measure 60-100 px
#   nih       0.29  median 130 px: the cell mask (channel > 10) of 400
#                   uninfected crops at scale 1 (infected: 131 px)
#   bccd      0.36  median 106 px, the same way as pbc over 30 smears;
#                   the median RBC box is 104x101
scale_of() {
	case $1 in
	zxaoyou1) echo 0.85 ;;
	zxaoyou2) echo 0.52 ;;
	pbc) echo 0.51 ;;
	nih) echo 0.29 ;;
	bccd) echo 0.36 ;;
	esac
}

set -eu

prog=blocks.sh
here=$(cd "$(dirname "$0")" && pwd)
blocks=
verbose=

usage() {
	echo "usage: sh pipelines/blocks.sh [-v] [-b blocks-dir] [source...]" >&2
	exit 1
}

while getopts ':b:v' opt; do
	case $opt in
	b) blocks=$OPTARG ;;
	v) verbose=-v ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "$blocks" ]; then
	if [ -n "${SMEARSEG_SHARE:-}" ]; then
		blocks=$SMEARSEG_SHARE/blocks
	else
		blocks=$here/../share/blocks
	fi
fi
[ -d "$blocks" ] || { echo "$prog: $blocks: no such directory" >&2; exit 1; }
[ $# -gt 0 ] || set -- zxaoyou1 zxaoyou2 pbc nih bccd
for src; do
	case $src in
	zxaoyou1|zxaoyou2|pbc|nih|bccd) ;;
	*) echo "$prog: unknown source '$src' (expected zxaoyou1," \
	    "zxaoyou2, pbc, nih or bccd)" >&2; exit 1 ;;
	esac
done
if [ -n "${CROP_CELLS:-}" ]; then
	crop=$CROP_CELLS
elif [ -x "$here/../bin/crop-cells" ]; then
	crop=$here/../bin/crop-cells
else
	crop="crop-cells"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/blocks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# list_SOURCE DIR: print the list lines of one source.
# stream_SOURCE DIR LIST: print its images in the order of LIST.

list_zxaoyou() {        # DIR DATASET-FOLDER SOURCE
	awk -F, -v set="$2" -v src="$3" 'NR > 1 && $1 ~ "^" set "/" {
		n = $1; sub(/^[^\/]*\//, "", n); sub(/\.bmp$/, "", n)
		print src "/" n, src "/" n, $3
	}' "$1/manifest.csv"
}
stream_zxaoyou() {      # DIR DATASET-FOLDER LIST
	while read -r id _; do
		n=${id#*/}
		pngtopam "$1/$2/$n.bmp.png"
		pngtopam "$1/$2/$n.png"
	done < "$3"
}
list_zxaoyou1() { list_zxaoyou "$1" dataset1 zxaoyou1; }
list_zxaoyou2() { list_zxaoyou "$1" dataset2 zxaoyou2; }
stream_zxaoyou1() { stream_zxaoyou "$1" dataset1 "$2"; }
stream_zxaoyou2() { stream_zxaoyou "$1" dataset2 "$2"; }

list_pbc() {
	awk -F, 'NR > 1 {
		c = $2
		if (c == "platelet") c = "Thrombocyte"
		else if (c ~ /^platelet_clump/) c = "Platelet_clump"
		n = $1; sub(/\.jpg$/, "", n)
		print "pbc/" n, "pbc/" n, c
	}' "$1/manifest.csv"
}
stream_pbc() {
	while read -r id _; do
		jpegtopnm -quiet "$1/${id#pbc/}.jpg"
	done < "$2"
}

list_nih() {
	awk -F, 'NR > 1 {
		c = $2 == "infected_rbc" ? "Infected_RBC" : "Healthy_RBC"
		n = $1; sub(/\.png$/, "", n)
		g = n; sub(/^[^\/]*\//, "", g); sub(/_.*/, "", g)
		sub(/Original[A-Za-z0-9]*$/, "", g)
		print "nih/" n, "nih/" g, c
	}' "$1/manifest.csv"
}
stream_nih() {
	while read -r id _; do
		pngtopam "$1/${id#nih/}.png"
	done < "$2"
}

list_bccd() {
	awk -F, 'NR > 1 { print $2 }' "$1/manifest.csv" | while read -r ann; do
		n=${ann##*/}
		n=${n%.xml}
		awk -v id="bccd/$n" -v nrbc="${BCCD_RBC:-6}" '
			# VOC pixel coordinates count from 1, crop-cells from 0
			function c(v) { return v > 0 ? v - 1 : 0 }
			/<name>/ { name = $0; gsub(/.*<name>|<\/name>.*/, "", name) }
			/<xmin>/ { x0 = $0; gsub(/[^0-9]/, "", x0) }
			/<ymin>/ { y0 = $0; gsub(/[^0-9]/, "", y0) }
			/<xmax>/ { x1 = $0; gsub(/[^0-9]/, "", x1) }
			/<ymax>/ { y1 = $0; gsub(/[^0-9]/, "", y1) }
			/<\/object>/ {
				b = " " c(x0) "," c(y0) "," c(x1) "," c(y1)
				# x0..y1 are gsub results, strings, so the RBC
				# size test compares as text, not as numbers.
				# Kept so that the dataset of the shipped model
				# reproduces; make it numeric (or use voc.awk)
				# at the next retraining
				if (name == "Platelets")
					boxes = boxes b
				else if (name == "RBC" && nr < nrbc && \
				    x1 > x0 + 4 && y1 > y0 + 4) {
					rbc = rbc b
					nr++
				}
			}
			END {
				if (boxes != "")
					print id, id, "Thrombocyte" boxes
				if (rbc != "")
					print id ".rbc", id, "Healthy_RBC" rbc
			}
		' "$1/$ann"
	done
}
stream_bccd() {
	while read -r id _; do
		n=${id#bccd/}
		jpegtopnm -quiet "$1/JPEGImages/${n%.rbc}.jpg"
	done < "$2"
}

dir_of() {
	case $1 in
	zxaoyou*) echo "$blocks/zxaoyou_segmentation_WBC" ;;
	pbc) echo "$blocks/pbc_acevedo" ;;
	nih) echo "$blocks/nih_malaria_cell_images" ;;
	bccd) echo "$blocks/bccd" ;;
	esac
}
mode_of() {
	case $1 in
	zxaoyou*) echo mask ;;
	pbc) echo centre ;;
	nih) echo black ;;
	bccd) echo box ;;
	esac
}

# Run every source in the background, each into its own files.
for src; do
	(
		dir=$(dir_of "$src")
		"list_$src" "$dir" > "$tmp/$src.list"
		"stream_$src" "$dir" "$tmp/$src.list" |
		    "$crop" -M "$(mode_of "$src")" -S "$src" -s "$(scale_of "$src")" \
		    -l "$tmp/$src.list" $verbose > "$tmp/$src.pam" \
		    2> "$tmp/$src.err"
	) &
	echo $! > "$tmp/$src.pid"
done
status=0
for src; do
	if ! wait "$(cat "$tmp/$src.pid")"; then
		[ $status -ne 0 ] || status=1
		[ -s "$tmp/$src.err" ] ||
		    echo "crop-cells: failed (the list or the stream)" > "$tmp/$src.err"
	fi
	sed "s/^crop-cells: /$prog: $src: /" "$tmp/$src.err" >&2
done
[ $status -eq 0 ] || exit $status
for src; do
	cat "$tmp/$src.pam"
done
