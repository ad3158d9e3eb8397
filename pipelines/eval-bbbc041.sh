#!/bin/sh
# eval-bbbc041.sh - score a model on real smears with binary cell masks.
#
#   sh pipelines/eval-bbbc041.sh MODEL DIR [SCALE] [OUTDIR]
#   sh pipelines/eval-bbbc041.sh -m MODEL [-m MODEL]... DIR [SCALE] [OUTDIR]
#
# DIR holds images/NAME.png and masks/NAME.png (BBBC041Seg, Depto et al.
# 2021: 255 = any blood cell, 0 = background; no class labels).  Each image
# is rescaled by SCALE (default 0.32: their red cells are about 120 px
# across, ours 38 px), segmented with unet-infer in overlapping windows,
# and every predicted class but background counts as "cell".  Prints
# seg-eval --binary's report: the cell IoU is the figure of merit.
# OUTDIR (default a temporary directory, removed) keeps the rescaled
# images, truths, predictions and side-by-side PNGs.  THREADS (default 2)
# is unet-infer's -j, TTA=1 its --tta; VOTE=1 puts the class maps through
# cell-vote(1) first, as smear-segment gives them (its specks, small blobs
# of red-cell pixels in the plasma, go to background; the rest of the
# vote does not change cell against background).  Several -m models are
# scored as one ensemble (unet-infer with a -m for each: their
# probabilities averaged).
set -eu
usage="usage: eval-bbbc041.sh MODEL DIR [SCALE] [OUTDIR]
       eval-bbbc041.sh -m MODEL [-m MODEL]... DIR [SCALE] [OUTDIR]"
models=
while getopts ':m:' opt; do
	case $opt in
	m) models="$OPTARG
$models" ;;   # newest first: infer() puts them back in order
	*) echo "$usage" >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "$models" ]; then
	models=${1:?$usage}
	shift
fi
dir=${1:?$usage}
scale=${2:-0.32}
out=${3:-}
# infer ARGS...: unet-infer -m MODEL... ARGS
infer() {
	set -f
	IFS='
'
	for m in $models; do set -- -m "$m" "$@"; done
	unset IFS
	set +f
	unet-infer "$@"
}
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="$here/bin:$PATH"
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
: >"$out/truth.pgm"
: >"$out/images.ppm"
n=0
for img in "$dir"/images/*.png; do
	name=$(basename "$img" .png)
	mask="$dir/masks/$name.png"
	[ -f "$mask" ] || { echo "eval-bbbc041: $mask: missing" >&2; exit 1; }
	pngtopam "$img" | pamscale "$scale" >"$out/$name.ppm"
	size=$(pamfile -size "$out/$name.ppm")
	# the mask to a 0/1 class map of the same size: 1 = cell
	pngtopam "$mask" | ppmtopgm | pamscale -xsize ${size% *} -ysize ${size#* } |
	    pamthreshold -simple -threshold 0.5 2>/dev/null | pamtopnm |
	    pbmtopgm 1 1 >"$out/$name.truth.pgm"
	cat "$out/$name.ppm" >>"$out/images.ppm"
	cat "$out/$name.truth.pgm" >>"$out/truth.pgm"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "eval-bbbc041: $dir/images: no PNG images" >&2; exit 1; }
tta=
[ "${TTA:-0}" = 1 ] && tta=--tta
if [ "${VOTE:-0}" = 1 ]; then
	infer -q $tta -j "${THREADS:-2}" "$out/images.ppm" >"$out/pred.raw.pgm"
	cell-vote -q "$out/pred.raw.pgm" >"$out/pred.pgm"
else
	infer -q $tta -j "${THREADS:-2}" "$out/images.ppm" >"$out/pred.pgm"
fi
seg-eval --binary "$out/truth.pgm" "$out/pred.pgm"
