#!/bin/sh
# slurm-train.sh - train the default network on N nodes with Slurm.
#
#   sbatch --nodes=4 --ntasks-per-node=1 --cpus-per-task=16 \
#       pipelines/slurm-train.sh RUN_DIR [EXTRA unet-train OPTIONS]
#
# One MPI rank per node (or per GPU: --ntasks-per-node=GPUS and
# --gpus-per-task=1), each using its task's CPUs as threads.  The batch is
# per rank, so the global batch is ranks x BATCH: keep it (lower BATCH as
# you add ranks) or raise the learning rate with it (see
# share/doc/scaling.md).  Checkpoints and the log go to RUN_DIR (on a file
# system every node sees); submitting the same job again resumes from the
# last checkpoint.
#
#SBATCH --job-name=smearseg-train
#SBATCH --time=24:00:00
#SBATCH --output=smearseg-train-%j.log
set -eu

run=${1:?usage: slurm-train.sh RUN_DIR [unet-train options]}
shift
top=${SMEARSEG_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
config=${CONFIG:-$top/share/unet.yaml}
train=${TRAIN:-$top/dataset/train.pam}
val=${VAL:-$top/dataset/val.pam}
batch=${BATCH:-8}
threads=${SLURM_CPUS_PER_TASK:-1}

mkdir -p "$run"
resume=
[ -f "$run/checkpoint.safetensors" ] && resume="--resume $run"

# srun starts the ranks under Slurm's own process manager; mpirun works
# too where OpenMPI was built with Slurm support.
exec srun --kill-on-bad-exit=1 "$top/bin/unet-train" \
    --config "$config" --train "$train" --val "$val" \
    --out "$run/model.safetensors" --checkpoint-dir "$run" $resume \
    --batch "$batch" --threads "$threads" --quiet "$@"
