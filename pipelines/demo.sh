#!/bin/sh
# demo.sh - the body of `make demo` (see pipelines/demo.mk for the
# variables).  Prints where the results are.
set -eu
start=$(date +%s)
mkdir -p "$DEMO"
say() { printf 'demo: %s\n' "$*" >&2; }
[ -f "$MODEL" ] || { say "$MODEL: no model"; exit 1; }

# SEED=1 splits the samples as the default model's training set was
# split, so the test tiles hold only cells the model never saw
say "building a test set with the dataset pipeline (SIZE=demo)"
mkdir -p "$DEMO/dataset"
$MAKE --no-print-directory -s dataset SIZE=demo SEED=1 DATASET="$DEMO/dataset" \
    >"$DEMO/dataset/build.log" 2>&1 ||
    { cat "$DEMO/dataset/build.log" >&2; exit 1; }
tiles="$DEMO/dataset/test.pam"
ntiles=$(pamfile -count "$tiles" | sed 's/.*:[[:space:]]*\([0-9]*\).*/\1/')

say "segmenting $ntiles test tiles"
unet-infer -q -m "$MODEL" -j "$THREADS" "$tiles" >"$DEMO/test-pred.pgm"
seg-eval "$tiles" "$DEMO/test-pred.pgm" >"$DEMO/test-report.yaml"
seg-eval --tsv "$tiles" "$DEMO/test-pred.pgm" >"$DEMO/test-report.tsv"
# image | prediction | truth for the first 12 tiles, three to a row
colorize --side-by-side "$tiles" "$DEMO/test-pred.pgm" >"$DEMO/.sbs.ppm"
pamsplit -padname=2 "$DEMO/.sbs.ppm" "$DEMO/.sbs-%d.ppm" 2>/dev/null
for r in 0 1 2 3; do
	pnmcat -white -tb -jleft \
	    "$DEMO/.sbs-$(printf %02d $((3 * r))).ppm" \
	    "$DEMO/.sbs-$(printf %02d $((3 * r + 1))).ppm" \
	    "$DEMO/.sbs-$(printf %02d $((3 * r + 2))).ppm" |
	    pamtopng >"$DEMO/test-compare-$r.png"
done
rm -f "$DEMO"/.sbs*.ppm

say "segmenting real smears: $SMEARS"
set --
for s in $SMEARS; do
	jpg="$SRCDIR/share/eval/bccd/JPEGImages/BloodImage_$s.jpg"
	[ -f "$jpg" ] || { say "$jpg: missing"; exit 1; }
	set -- "$@" "$jpg"
done
# smear-segment measures each smear's scale (SCALE, if set, is used
# instead), segments it, gives each white cell one class and counts
rm -rf "$DEMO/smears"
smear-segment -q -m "$MODEL" -j "$THREADS" ${SCALE:+-s "$SCALE"} \
    -o "$DEMO/smears" "$@"
for s in $SMEARS; do
	o=$DEMO/smears/BloodImage_$s
	jpegtopnm "$SRCDIR/share/eval/bccd/JPEGImages/BloodImage_$s.jpg" \
	    2>/dev/null | pamtopng >"$DEMO/smear-$s.png"
	cp "$o.classes.png" "$DEMO/smear-$s-classes.png"
	cp "$o.overlay.png" "$DEMO/smear-$s-overlay.png"
	cp "$o.counts.yaml" "$DEMO/smear-$s-counts.yaml"
	awk -F'\t' -v n="BloodImage_$s" 'NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k }
	    NR > 1 && $1 == n { print $c["scale"] }' "$DEMO/smears/summary.tsv" \
	    >"$DEMO/.scale-$s"
done

if command -v gnuplot >/dev/null; then
	say "plotting"
	log="$SRCDIR/share/models/default-train.jsonl"
	sh "$SRCDIR/pipelines/plots.sh" ${log:+$( [ -f "$log" ] && echo "-l $log")} \
	    -r "$DEMO/test-report.yaml" "$DEMO" >/dev/null
fi

acc=$(sed -n 's/^pixel_accuracy: //p' "$DEMO/test-report.yaml")
miou=$(sed -n 's/^mean_iou: //p' "$DEMO/test-report.yaml")
{
	echo "# smearseg demo results"
	echo
	echo "Model: \`$MODEL\`.  Test set: $ntiles synthetic"
	echo "tiles built by \`make dataset SIZE=demo SEED=1\` (\`dataset/\`)."
	echo "Pixel accuracy $acc, mean IoU $miou."
	echo
	echo "| file | what it is |"
	echo "|---|---|"
	echo "| test-report.yaml | seg-eval on the test tiles: accuracy, IoU and Dice per class, confusion matrix |"
	echo "| test-report.tsv | the same as a table |"
	echo "| test-compare-N.png | three test tiles each: picture, prediction, truth |"
	echo "| test-pred.pgm | the predicted class maps (PGM, value = class) |"
	for s in $SMEARS; do
		echo "| smear-$s.png | held-out BCCD smear BloodImage_$s (share/eval/bccd, used by no training stage) |"
		echo "| smear-$s-classes.png | its predicted classes in the class colours (smear-segment: segmented at 40x, scale factor $(cat "$DEMO/.scale-$s"), one class per white cell) |"
		echo "| smear-$s-overlay.png | the classes blended over the smear |"
		echo "| smear-$s-counts.yaml | cell counts, parasitemia, WBC differential |"
	done
	echo "| smears/ | smear-segment's output for these smears: index.html (a report), summary.tsv, and per smear its class map, colours, overlay and counts |"
	[ -f "$DEMO/confusion.png" ] && echo "| confusion.png | the test confusion matrix, rows normalised |"
	[ -f "$DEMO/training-loss.png" ] && echo "| training-loss.png, training-val.png | the default model's training curves |"
	echo "| dataset/ | the test set and the stages that made it |"
	echo
	echo "Colours: see share/classes.yaml (README, \"Classes\")."
} >"$DEMO/index.md"
rm -f "$DEMO"/.scale-*
say "done in $(( $(date +%s) - start )) s: pixel accuracy $acc, mean IoU $miou"
echo "results in $DEMO/ (see $DEMO/index.md)"
