#!/bin/sh
# crash.sh - the long form of test/crash.bats: unet-train killed with
# SIGKILL at 20 random points and resumed gives the uninterrupted run's
# model.  Prints:
#   bench: kill_resume_points N kills (with the test's status: 0 = passed)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${SMEARSEG_KILL_POINTS:-20}
SMEARSEG_KILL_POINTS=$n bats "$top/test/crash.bats" >&2
echo "bench: kill_resume_points $n kills"
