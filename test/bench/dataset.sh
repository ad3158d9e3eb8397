#!/bin/sh
# dataset.sh - benchmark of the dataset build: compose-tile makes 2,000
# 224x224 tiles (the default train split) from 24 backgrounds of
# 1000x1000, written to a file with their records, as make dataset does.
# Synthetic samples (test/fixtures/compose-tile/mksamples.pl) stand in for
# the real blocks so that the numbers do not depend on share/.
#
# Prints:
#   bench: make_background_per_s V backgrounds/s
#   bench: compose_tiles_per_s V tiles/s
# OMP_NUM_THREADS limits the threads (the goal: 1,000 tiles/s on 2 cores).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

perl "$top/test/fixtures/compose-tile/mksamples.pl" -g 8 Eosinophil:12 \
    Basophil:12 Neutrophil:12 Lymphocyte:12 Monocyte:12 Thrombocyte:12 \
    "Platelet clump:12" "Healthy RBC:60" "Infected RBC:60" >"$tmp/samples.pam"
SMEARSEG_SHARE=${SMEARSEG_SHARE:-$top/share}
export SMEARSEG_SHARE

t0=$(now)
"$bin/make-background" -s 1 -n 24 "$tmp/samples.pam" >"$tmp/bg.pam"
t1=$(now)
echo "bench: make_background_per_s $(rate 24 "$t0" "$t1") backgrounds/s"

t0=$(now)
"$bin/compose-tile" -s 1 -n 2000 -r "$tmp/train.jsonl" "$tmp/bg.pam" \
    "$tmp/samples.pam" >"$tmp/train.pam"
t1=$(now)
echo "bench: compose_tiles_per_s $(rate 2000 "$t0" "$t1") tiles/s"
