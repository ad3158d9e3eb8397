#!/bin/sh
# mpi.sh - data-parallel training throughput: unet-train on the reference
# U-Net (share/unet.yaml) with one rank at batch 8 and with two ranks at
# batch 4 each (the same global batch, so the same model up to the order of
# sums), one thread per rank.  Synthetic tiles
# (test/fixtures/compose-tile/mksamples.pl) keep the figures independent
# of share/blocks.  The rate is the log's train_tiles_per_s: training
# steps alone, without reading the tiles or validation.
#
# Prints:
#   bench: mpi_1rank_train_tiles_per_s V tiles/s
#   bench: mpi_2rank_train_tiles_per_s V tiles/s
#   bench: mpi_2rank_speedup V x
# BENCH_MPI_TILES sets the training tiles (48).  Needs mpirun (Debian's
# openmpi-bin) and a build with MPI; skipped with a message otherwise.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/bin
n=${BENCH_MPI_TILES:-48}
if ! command -v mpirun >/dev/null 2>&1; then
	echo "bench: (no mpirun: MPI throughput skipped; apt-get install openmpi-bin)" >&2
	exit 0
fi
if ! ldd "$bin/unet-train" | grep -q libmpi; then
	echo "bench: (unet-train built without MPI: MPI throughput skipped)" >&2
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
SMEARSEG_SHARE=${SMEARSEG_SHARE:-$top/share}
export SMEARSEG_SHARE

perl "$top/test/fixtures/compose-tile/mksamples.pl" -g 4 Eosinophil:4 \
    Basophil:4 Neutrophil:4 Lymphocyte:4 Monocyte:4 Thrombocyte:4 \
    "Platelet clump:4" "Healthy RBC:30" "Infected RBC:30" >"$tmp/samples.pam"
"$bin/make-background" -s 1 -n 4 "$tmp/samples.pam" >"$tmp/bg.pam"
"$bin/compose-tile" -s 1 -n "$n" "$tmp/bg.pam" "$tmp/samples.pam" >"$tmp/train.pam"
"$bin/compose-tile" -s 2 -n 4 "$tmp/bg.pam" "$tmp/samples.pam" >"$tmp/val.pam"

# mpirun refuses root without these; self and vader: one machine
mpi="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader --bind-to none"
train() {
	"$@" -q -c "$top/share/unet.yaml" -t "$tmp/train.pam" -v "$tmp/val.pam" \
	    -e 1 -j 1 -o "$tmp/m.st" -l "$tmp/log.jsonl"
	sed -n 's/.*"train_tiles_per_s": \([0-9.]*\).*/\1/p' "$tmp/log.jsonl" | tail -n 1
}
r1=$(OMP_NUM_THREADS=1 train $mpi -np 1 "$bin/unet-train" -b 8)
r2=$(OMP_NUM_THREADS=1 train $mpi -np 2 -x OMP_NUM_THREADS "$bin/unet-train" -b 4)
echo "bench: mpi_1rank_train_tiles_per_s $r1 tiles/s"
echo "bench: mpi_2rank_train_tiles_per_s $r2 tiles/s"
awk -v a="$r1" -v b="$r2" 'BEGIN { printf "bench: mpi_2rank_speedup %.2f x\n", b / a }'
