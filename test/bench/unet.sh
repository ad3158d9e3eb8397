#!/bin/sh
# unet.sh - training and inference speed of the reference U-Net on CPU,
# and the same network in PyTorch in the same run, where Debian's
# python3-torch is installed.
#
# Each measure runs in its own process (so each peak RSS is that of one
# phase alone), at batch $BENCH_BATCH (16) with $BENCH_THREADS threads (2),
# for $BENCH_STEPS timed steps (3) after two warm-up steps.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SMEARSEG_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
B=${BENCH_BATCH:-16}
T=${BENCH_THREADS:-2}
N=${BENCH_STEPS:-3}
cfg=$top/share/unet.yaml
[ -x "$build/bench/bench_unet" ] || {
	echo "unet.sh: $build/bench/bench_unet: not built (make bench builds it)" >&2
	exit 1
}

get() { sed -n "s/^bench: $1 \\([0-9.]*\\) .*/\\1/p"; }

c_inf=$(OMP_NUM_THREADS=$T "$build/bench/bench_unet" -c "$cfg" -b "$B" -n "$N" -m infer)
c_tr=$(OMP_NUM_THREADS=$T "$build/bench/bench_unet" -c "$cfg" -b "$B" -n "$N" -m train)
echo "$c_inf"
echo "$c_tr"

py=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch, yaml' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "bench: (no python3 with torch and yaml: PyTorch comparison skipped; apt-get install python3-torch)" >&2
	exit 0
fi
t_inf=$("$py" "$top/test/reference/bench_torch.py" -t "$T" -b "$B" -n "$N" -m infer "$cfg" | grep '^bench:')
t_tr=$("$py" "$top/test/reference/bench_torch.py" -t "$T" -b "$B" -n "$N" -m train "$cfg" | grep '^bench:')
echo "$t_inf"
echo "$t_tr"
awk -v ci="$(echo "$c_inf" | get infer_img_per_s)" \
    -v ct="$(echo "$c_tr" | get train_img_per_s)" \
    -v cr="$(echo "$c_tr" | get train_peak_rss_mb)" \
    -v ti="$(echo "$t_inf" | get torch_infer_img_per_s)" \
    -v tt="$(echo "$t_tr" | get torch_train_img_per_s)" \
    -v tr="$(echo "$t_tr" | get torch_train_peak_rss_mb)" 'BEGIN {
	printf "bench: train_speedup_vs_torch %.2f x\n", ct / tt
	printf "bench: infer_speedup_vs_torch %.2f x\n", ci / ti
	printf "bench: train_rss_ratio_vs_torch %.2f x\n", cr / tr
}'
