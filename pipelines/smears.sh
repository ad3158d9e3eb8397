#!/bin/sh
# smears.sh - real smear fields of share/blocks/bccd as labelled
# backgrounds (RGB_LABEL, at the 40x scale) for compose-tile.
#
# usage: sh pipelines/smears.sh [-b blocks-dir] [-g groups-file] > smears.pam
#
#   -b DIR      the blocks directory (default: share/blocks beside this
#               script, or $SMEARSEG_SHARE/blocks)
#   -g FILE     use only the smears whose group (bccd/NAME) is a line of
#               FILE: the dataset build passes the groups of the training
#               split, so that a smear whose platelets or red cells went to
#               validation or test is never a training background
#
# Each BCCD smear goes through label-smear(1) with all its Pascal VOC
# boxes (-W: label-smear --whole-cell): red cells become Healthy RBC by the photo's own darkness, the
# plasma background, the nuclei in white-cell boxes the partial label
# White cell and the platelets in platelet boxes the partial label
# Platelet (BCCD names no white-cell type), and the rest of those boxes
# ignore (255).  The scale is BCCD's (0.36, see pipelines/blocks.sh).
# label-smear is $LABEL_SMEAR if set, else bin/label-smear beside this
# script if built there, else the one on PATH.  Nothing is written to
# standard output unless every step succeeds.

set -eu

prog=smears.sh
here=$(cd "$(dirname "$0")" && pwd)
blocks=
groups=
whole=

usage() {
	echo "usage: sh pipelines/smears.sh [-b blocks-dir] [-g groups-file] [-W]" >&2
	exit 1
}

while getopts ':b:g:W' opt; do
	case $opt in
	b) blocks=$OPTARG ;;
	g) groups=$OPTARG ;;
	W) whole=--whole-cell ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
if [ -z "$blocks" ]; then
	if [ -n "${SMEARSEG_SHARE:-}" ]; then
		blocks=$SMEARSEG_SHARE/blocks
	else
		blocks=$here/../share/blocks
	fi
fi
dir=$blocks/bccd
[ -f "$dir/manifest.csv" ] || { echo "$prog: $dir/manifest.csv: no such file" >&2; exit 1; }
[ -z "$groups" ] || [ -r "$groups" ] || { echo "$prog: $groups: cannot read" >&2; exit 1; }
if [ -n "${LABEL_SMEAR:-}" ]; then
	label=$LABEL_SMEAR
elif [ -x "$here/../bin/label-smear" ]; then
	label=$here/../bin/label-smear
else
	label=label-smear
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smears.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# The list: ID GROUP KIND:x0,y0,x1,y1 ... (VOC counts from 1, we from 0).
awk -F, 'NR > 1 { print $2 }' "$dir/manifest.csv" | while read -r ann; do
	n=${ann##*/}
	n=${n%.xml}
	if [ -n "$groups" ] && ! grep -qx "bccd/$n" "$groups"; then
		continue
	fi
	awk -f "$here/voc.awk" "$dir/$ann" | awk -v id="bccd/$n" '
		function c(v) { return v > 0 ? v - 1 : 0 }
		{
			k = $1 == "RBC" ? "rbc" : $1 == "WBC" ? "wbc" : \
			    $1 == "Platelets" ? "platelet" : ""
			if (k == "")
				exit 1
			b = b " " k ":" c($2) "," c($3) "," c($4) "," c($5)
		}
		END { print id, id b }
	' || { echo "$prog: $dir/$ann: an object that is not RBC, WBC or Platelets" >&2; exit 1; }
done > "$tmp/list"
[ -s "$tmp/list" ] || { echo "$prog: no smear selected" >&2; exit 1; }
while read -r id _; do
	jpegtopnm -quiet "$dir/JPEGImages/${id#bccd/}.jpg"
done < "$tmp/list" | "$label" -l "$tmp/list" -s 0.36 -S bccd $whole > "$tmp/out.pam"
cat "$tmp/out.pam"
