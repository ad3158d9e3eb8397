#!/bin/sh
# nih-errors.sh - the NIH red cells that a model calls wrong, for eyes.
#
#   sh pipelines/nih-errors.sh [-a] [-s DIR] KEEPDIR OUT.png
#
# KEEPDIR is what `eval-real.sh -k KEEPDIR` kept of its NIH part:
# nih/cells.tsv (one header line, then id, truth, called, ...),
# nih/images.ppm and nih/pred.pgm (one image and one class map per cell,
# in the table's order).  Each cell called other than its truth is one
# column of OUT.png, top to bottom:
#   - its photo in the NIH set at the photo's own resolution, fitted into
#     160x160 (DIR/nih_malaria_cell_images/CLASS/NAME.png for the id
#     nih/CLASS/NAME; DIR defaults to share/blocks, or $SMEARSEG_SHARE/blocks
#     where that is set: every NIH cell of the dataset's splits);
#   - the cell at the 40x scale as the network saw it, and the class map
#     it was called by (the class table's colours, from colorize), each
#     the central 64x64 pixels (less on a smaller canvas) enlarged to
#     160x160;
#   - "truth" and "called" as text.
# -a takes every cell of the table, right or wrong.  OUT.png is written
# through a temporary file and renamed, so it is whole or absent; a
# table with no cell to show writes nothing and says so.
set -eu
prog=nih-errors.sh
usage() { echo "usage: $prog [-a] [-s sources] keepdir out.png" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
all= src=${SMEARSEG_SHARE:-$top/share}/blocks
while getopts as: opt; do
	case $opt in
	a) all=1 ;;
	s) src=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
keep=$1 out=$2
d=$keep/nih
for f in "$d/cells.tsv" "$d/images.ppm" "$d/pred.pgm"; do
	[ -r "$f" ] || { echo "$prog: $f: cannot read (eval-real.sh -k $keep)" >&2; exit 1; }
done
nih=$src/nih_malaria_cell_images
[ -d "$nih" ] || { echo "$prog: $nih: no such directory (-s DIR)" >&2; exit 1; }
command -v colorize >/dev/null || { echo "$prog: colorize not found on PATH" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pamsplit -quiet "$d/images.ppm" "$tmp/i%d.ppm"
pamsplit -quiet "$d/pred.pgm" "$tmp/p%d.pgm"
n_img=$(ls "$tmp" | grep -c '^i')
n_map=$(ls "$tmp" | grep -c '^p')
n_row=$(awk 'NR > 1' "$d/cells.tsv" | wc -l)
[ "$n_img" -eq "$n_row" ] && [ "$n_map" -eq "$n_row" ] || {
	echo "$prog: $d: cells.tsv has $n_row cells, images.ppm $n_img images; pred.pgm must match" >&2
	exit 1
}

# cell K (0-based) of the table: its column
column() {
	k=$1 id=$2 truth=$3 called=$4
	case $id in
	nih/*/*) png=$nih/${id#nih/}.png ;;
	*) echo "$prog: $d/cells.tsv: cell $((k + 1)): id '$id' is not nih/CLASS/NAME" >&2; exit 1 ;;
	esac
	[ -r "$png" ] || { echo "$prog: $png: cannot read" >&2; exit 1; }
	pngtopam "$png" | pamtopnm | pamscale -xyfit 160 160 |
	    pnmpad -black -width 160 -height 160 >"$tmp/a.ppm"
	# the central square of side 64, or of the canvas where it is smaller
	set -- $(pamfile -size "$tmp/i$k.ppm")
	s=64
	[ "$1" -ge "$s" ] || s=$1
	[ "$2" -ge "$s" ] || s=$2
	l=$((($1 - s) / 2)) t=$((($2 - s) / 2))
	pamcut -left "$l" -top "$t" -width "$s" -height "$s" "$tmp/i$k.ppm" |
	    pamscale -width 160 -height 160 >"$tmp/b.ppm"
	colorize "$tmp/p$k.pgm" |
	    pamcut -left "$l" -top "$t" -width "$s" -height "$s" |
	    pamscale -width 160 -height 160 >"$tmp/c.ppm"
	printf 'truth: %s\ncalled: %s\n' "$truth" "$called" |
	    pbmtext -lspace 2 | ppmtoppm | pnmpad -white -width 160 >"$tmp/t.ppm"
	pamcat -topbottom -white "$tmp/a.ppm" "$tmp/b.ppm" "$tmp/c.ppm" \
	    "$tmp/t.ppm" | pnmpad -white -right 8 >"$tmp/col$k.ppm"
	cols="$cols $tmp/col$k.ppm"
}

cols=
k=0
while IFS='	' read -r id truth called _; do
	if [ -n "$all" ] || [ "$truth" != "$called" ]; then
		column "$k" "$id" "${truth%_RBC}" "${called%_RBC}"
	fi
	k=$((k + 1))
done <<EOF
$(awk 'NR > 1' "$d/cells.tsv")
EOF
[ -n "$cols" ] || { echo "$prog: $d/cells.tsv: no cell called wrong, nothing written" >&2; exit 1; }
# shellcheck disable=SC2086
pamcat -leftright -white -jtop $cols | pamtopng >"$tmp/sheet.png"
mv "$tmp/sheet.png" "$out"
