#!/bin/sh
# contact-sheet.sh - a PNG montage of labelled tiles, for eyes.
#
#   sh pipelines/contact-sheet.sh TILES N OUT.png [COLUMNS]
#
# Takes the first N tiles of the RGB_LABEL stream TILES and lays them out
# COLUMNS (default 4) pairs to a row, each pair the tile's image beside its
# label map in the class table's colours (drawn by colorize, which must be
# on PATH; the dataset make fragment puts bin/ first).  Only the first N
# tiles are read, so a sheet of a large split is cheap.  OUT.png is
# written through a temporary file and renamed, so it is whole or absent.
set -eu
prog=contact-sheet.sh
usage() { echo "usage: $prog tiles count out.png [columns]" >&2; exit 1; }
[ $# -ge 3 ] && [ $# -le 4 ] || usage
tiles=$1 n=$2 out=$3 cols=${4:-4}
case $n in '' | *[!0-9]* | 0) echo "$prog: invalid count '$n'" >&2; usage ;; esac
case $cols in '' | *[!0-9]* | 0) echo "$prog: invalid columns '$cols'" >&2; usage ;; esac
[ -r "$tiles" ] || { echo "$prog: $tiles: cannot read" >&2; exit 1; }
command -v colorize >/dev/null || { echo "$prog: colorize not found on PATH" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Copy image I of the stream on fd 3 (header line by line, then exactly
# WIDTH*HEIGHT*DEPTH bytes) to $tmp/tI.pam; fail at the end of the stream.
next_tile() {
	hdr= w= h= d=
	while IFS= read -r line <&3; do
		hdr="$hdr$line
"
		case $line in
		WIDTH\ *) w=${line#WIDTH } ;;
		HEIGHT\ *) h=${line#HEIGHT } ;;
		DEPTH\ *) d=${line#DEPTH } ;;
		ENDHDR) break ;;
		esac
	done
	[ -n "$w" ] && [ -n "$h" ] && [ "$d" = 4 ] || return 1
	{ printf '%s' "$hdr"; dd bs=65536 count=$((w * h * d)) \
	    iflag=count_bytes status=none <&3; } >"$tmp/t$1.pam"
}

exec 3<"$tiles"
i=0
while [ "$i" -lt "$n" ] && next_tile "$i"; do
	pamchannel -tupletype RGB 0 1 2 <"$tmp/t$i.pam" | pamtopnm |
	    pnmpad -white -right=3 -bottom=6 >"$tmp/a$i.ppm"
	colorize "$tmp/t$i.pam" | pnmpad -white -right=10 -bottom=6 \
	    >"$tmp/b$i.ppm"
	pamcat -leftright "$tmp/a$i.ppm" "$tmp/b$i.ppm" >"$tmp/p$i.ppm"
	i=$((i + 1))
done
exec 3<&-
[ "$i" -gt 0 ] || { echo "$prog: $tiles: no tile" >&2; exit 1; }

# rows of COLS pairs, the last one padded on the right by pamcat -white
r=0 k=0
while [ "$k" -lt "$i" ]; do
	row=
	j=0
	while [ "$j" -lt "$cols" ] && [ "$k" -lt "$i" ]; do
		row="$row $tmp/p$k.ppm"
		j=$((j + 1)) k=$((k + 1))
	done
	# shellcheck disable=SC2086
	pamcat -leftright $row >"$tmp/r$r.ppm"
	r=$((r + 1))
done
rows=
j=0
while [ "$j" -lt "$r" ]; do rows="$rows $tmp/r$j.ppm"; j=$((j + 1)); done
# shellcheck disable=SC2086
pamcat -topbottom -white -jleft $rows | pamtopng >"$tmp/sheet.png"
mv "$tmp/sheet.png" "$out"
