#!/bin/sh
# plots.sh - pictures of a training run and of an evaluation, with gnuplot.
#
#   sh pipelines/plots.sh [-l train.jsonl] [-r report.yaml] OUTDIR
#
# -l: the JSON Lines log of unet-train -> OUTDIR/training-loss.png (train
#     and validation loss per epoch) and OUTDIR/training-val.png (validation
#     pixel accuracy and mean IoU per epoch).
# -r: a seg-eval report (YAML) -> OUTDIR/confusion.png, the confusion
#     matrix normalised by row (each true class sums to 1), with the
#     per-class IoU in the row labels.
set -eu
log= report=
while getopts l:r: opt; do
	case $opt in
	l) log=$OPTARG ;;
	r) report=$OPTARG ;;
	*) echo "usage: plots.sh [-l train.jsonl] [-r report.yaml] OUTDIR" >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
out=${1:?usage: plots.sh [-l train.jsonl] [-r report.yaml] OUTDIR}
command -v gnuplot >/dev/null || { echo "plots.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one JSON value by key from a log line: "key": value
field() { sed -n "s/.*\"$1\": \\([-0-9.eE+a-z]*\\).*/\\1/p"; }

if [ -n "$log" ]; then
	[ -s "$log" ] || { echo "plots.sh: $log: empty or missing" >&2; exit 1; }
	while IFS= read -r line; do
		printf '%s %s %s %s %s\n' \
		    "$(echo "$line" | field epoch)" "$(echo "$line" | field train_loss)" \
		    "$(echo "$line" | field val_loss)" \
		    "$(echo "$line" | field val_pixel_accuracy)" \
		    "$(echo "$line" | field val_mean_iou)"
	done <"$log" >"$tmp/log.dat"
	gnuplot <<-END
	set terminal pngcairo size 800,500 noenhanced
	set output "$out/training-loss.png"
	set title "Training and validation loss"
	set xlabel "epoch"; set ylabel "weighted cross-entropy"
	set key top right; set grid
	plot "$tmp/log.dat" using 1:2 with linespoints title "train", \
	     "" using 1:3 with linespoints title "validation"
	set output "$out/training-val.png"
	set title "Validation scores"
	set ylabel "score"; set yrange [0:1]; set key bottom right
	plot "$tmp/log.dat" using 1:4 with linespoints title "pixel accuracy", \
	     "" using 1:5 with linespoints title "mean IoU"
	END
	echo "$out/training-loss.png"
	echo "$out/training-val.png"
fi

if [ -n "$report" ]; then
	[ -s "$report" ] || { echo "plots.sh: $report: empty or missing" >&2; exit 1; }
	# class names, IoU per class, and the confusion rows, from the YAML
	sed -n 's/^  classes: \[\(.*\)\]$/\1/p' "$report" | tr ',' '\n' |
	    sed 's/^ *//' >"$tmp/names"
	sed -n '/^iou:/,/^dice:/p' "$report" | sed -n 's/^  .*: //p' >"$tmp/iou"
	sed -n 's/^    - \[\(.*\)\]$/\1/p' "$report" | tr -d ',' >"$tmp/rows"
	k=$(wc -l <"$tmp/names")
	[ "$k" -gt 0 ] || { echo "plots.sh: $report: no confusion matrix" >&2; exit 1; }
	awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i
	       for (i = 1; i <= NF; i++) printf "%d %d %.4f\n", i - 1, NR - 1, s ? $i / s : 0
	       print "" }' "$tmp/rows" >"$tmp/conf.dat"
	ytics=$(paste -d'|' "$tmp/names" "$tmp/iou" | awk -F'|' '{ printf "%s\"%s (IoU %s)\" %d", (NR > 1 ? ", " : ""), $1, ($2 == "null" ? "none" : sprintf("%.2f", $2)), NR - 1 }')
	xtics=$(awk '{ printf "%s\"%s\" %d", (NR > 1 ? ", " : ""), $0, NR - 1 }' "$tmp/names")
	gnuplot <<-END
	set terminal pngcairo size 900,800 noenhanced
	set output "$out/confusion.png"
	set title "Confusion matrix (rows: truth, normalised; columns: prediction)"
	set xrange [-0.5:$k - 0.5]; set yrange [$k - 0.5:-0.5]
	set xtics ($xtics) rotate by 45 right
	set ytics ($ytics)
	set cbrange [0:1]; set palette defined (0 "white", 1 "#08306b")
	set size ratio 1; set lmargin 24; set bmargin 10
	plot "$tmp/conf.dat" using 1:2:3 with image notitle, \
	     "" using 1:2:(\$3 >= 0.005 ? sprintf("%.2f", \$3) : "") with labels font ",8" notitle
	END
	echo "$out/confusion.png"
fi
