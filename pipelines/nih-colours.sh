#!/bin/sh
# nih-colours.sh - the colour cast of the NIH cell photos, slide by slide.
#
#   sh pipelines/nih-colours.sh [-s DIR] [-t TABLE]
#
# Reads every PNG of DIR/nih_malaria_cell_images/{Parasitized,Uninfected}
# (DIR defaults to share/blocks, or $SMEARSEG_SHARE/blocks where that is
# set; ../shared/data/sources holds all 800 of the source set).  Each cell
# photo is the cell on black; its colour is the mean of its pixels whose
# three channels sum to more than 60 (not the black around it), and its
# cast is blue over red of that colour: bluish above 0.95, pink at or
# below.  Its slide is its file name up to the first "_", less a camera
# named after "Original" (the grouping of pipelines/blocks.sh), so one
# slide photographed through two cameras is one slide.
#
# Standard output, one line per figure, "nih-colours: NAME VALUE":
#   cells, cells_infected, cells_healthy
#   bluish_infected, bluish_healthy      cells with blue over red > 0.95
#   slides                               distinct slides
#   slides_multi                         slides with two or more cells
#   slides_multi_one_cast                of those, slides whose cells are
#                                        all bluish or all pink
# -t TABLE writes the cells as TSV (one header line): file, class, slide,
# blue_over_red.  eval-real.sh puts each NIH cell on its own photo's
# plasma because of what this shows (share/eval/README.md).
set -eu
prog=nih-colours.sh
usage() { echo "usage: $prog [-s dir] [-t table]" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
src=${SMEARSEG_SHARE:-$top/share}/blocks table=
while getopts s:t: opt; do
	case $opt in
	s) src=$OPTARG ;;
	t) table=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
nih=$src/nih_malaria_cell_images
[ -d "$nih" ] || { echo "$prog: $nih: no such directory (-s DIR)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
printf 'file\tclass\tslide\tblue_over_red\n' >"$tmp/table"
for f in "$nih"/Parasitized/*.png "$nih"/Uninfected/*.png; do
	[ -e "$f" ] || continue
	case $f in
	*/Parasitized/*) cls=Infected_RBC ;;
	*) cls=Healthy_RBC ;;
	esac
	name=${f##*/}
	slide=$(printf '%s\n' "$name" | sed 's/_.*//; s/Original[A-Za-z0-9]*$//')
	pngtopam "$f" 2>"$tmp/err" >"$tmp/cell.pam" || {
		echo "$prog: $f: $(head -n 1 "$tmp/err")" >&2
		exit 1
	}
	pamtable "$tmp/cell.pam" | tr '|' '\n' | awk -v f="$f" -v c="$cls" \
	    -v s="$slide" -v n="${f#"$nih"/}" '
	NF >= 3 && $1 + $2 + $3 > 60 { r += $1; b += $3; k++ }
	END {
		if (k == 0 || r == 0) {
			print "nih-colours.sh: " f ": no cell pixel" > "/dev/stderr"
			exit 1
		}
		printf "%s\t%s\t%s\t%.3f\n", n, c, s, b / r
	}' >>"$tmp/table"
done
[ "$(wc -l <"$tmp/table")" -gt 1 ] ||
    { echo "$prog: $nih: no cell photo (Parasitized/*.png, Uninfected/*.png)" >&2; exit 1; }
awk -F'\t' '
NR > 1 {
	n[$2]++
	blue = $4 > 0.95
	if (blue) nb[$2]++
	cells[$3]++
	bluish[$3] += blue
}
END {
	for (s in cells) {
		slides++
		if (cells[s] < 2) continue
		multi++
		if (bluish[s] == 0 || bluish[s] == cells[s]) one++
	}
	print "nih-colours: cells", n["Infected_RBC"] + n["Healthy_RBC"]
	print "nih-colours: cells_infected", n["Infected_RBC"] + 0
	print "nih-colours: cells_healthy", n["Healthy_RBC"] + 0
	print "nih-colours: bluish_infected", nb["Infected_RBC"] + 0
	print "nih-colours: bluish_healthy", nb["Healthy_RBC"] + 0
	print "nih-colours: slides", slides + 0
	print "nih-colours: slides_multi", multi + 0
	print "nih-colours: slides_multi_one_cast", one + 0
}' "$tmp/table"
[ -z "$table" ] || { cp "$tmp/table" "$table.tmp" && mv "$table.tmp" "$table"; }
