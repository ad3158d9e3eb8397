#!/usr/bin/env bats
# This script tests: the Makefile (objects kept between builds, the bench
#   programs built from their own target, the CUDA switches) and
#   test/gpu-bundle
# Also requires: make, and the C toolchain of the build

load test_helper

@test "build: after a build nothing is out of date (objects are kept)" {
	# make check has just run 'make all'; objects that Make took for
	# intermediate files would be gone, and this would recompile them
	run make -C "$TOP" -q all
	[ "$status" -eq 0 ]
	for o in filters/colorize.o filters/unet-train.o lib/metrics.o; do
		[ -f "$TOP/${SMEARSEG_BUILD:-build}/$o" ]
	done
}

@test "build: make bench-build builds the bench programs, which run" {
	run make -C "$TOP" -s bench-build
	[ "$status" -eq 0 ]
	b=$TOP/${SMEARSEG_BUILD:-build}/bench/bench_unet
	[ -x "$b" ]
	run "$b" -c "$TOP/share/unet-tiny.yaml" -b 2 -n 1 -m infer
	[ "$status" -eq 0 ]
	[[ "$output" == *"bench: infer_img_per_s "*" img/s"* ]]
}

@test "build: without nvcc (NVCC=, CUDA=0) nothing of CUDA is compiled or linked" {
	for v in NVCC= CUDA=0; do
		run make -C "$TOP" -n -B "$v" BUILD="$BATS_TEST_TMPDIR/b" all
		[ "$status" -eq 0 ]
		[[ "$output" == *"✗ CUDA off"* ]]
		[[ "$output" != *"SMEARSEG_CUDA"* ]]
		[[ "$output" != *"-lcudart"* ]]
		[[ "$output" != *".cu"* ]]
	done
}

@test "build: nvcc without cuBLAS beside it or under CUDA_HOME turns CUDA off, and CUDA=1 says why" {
	# a wrapper nvcc, as in /usr/local/bin, whose toolkit is not at CUDA_HOME
	mkdir -p "$BATS_TEST_TMPDIR/tk/bin"
	printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/tk/bin/nvcc"
	chmod +x "$BATS_TEST_TMPDIR/tk/bin/nvcc"
	run make -C "$TOP" -n -B NVCC="$BATS_TEST_TMPDIR/tk/bin/nvcc" CUDA=auto \
		CUDA_HOME="$BATS_TEST_TMPDIR/none" BUILD="$BATS_TEST_TMPDIR/b" all
	[ "$status" -eq 0 ]
	[[ "$output" == *"found but no lib64/libcublas.so"* ]]
	[[ "$output" == *"✗ CUDA off"* ]]
	[[ "$output" != *"-lcublas"* ]]
	run make -C "$TOP" -n -B NVCC="$BATS_TEST_TMPDIR/tk/bin/nvcc" CUDA=1 \
		CUDA_HOME="$BATS_TEST_TMPDIR/none" BUILD="$BATS_TEST_TMPDIR/b" all
	[ "$status" -ne 0 ]
	[[ "$output" == *"CUDA=1 but lib64/libcublas.so is not under CUDA_HOME"* ]]
}

@test "build: with nvcc the CUDA backend is compiled and linked" {
	nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
	[ -x "$nvcc" ] || skip "no nvcc"
	# NVCC given, since make check NVCC= passes its own to this make
	run make -C "$TOP" -n -B NVCC="$nvcc" CUDA=auto BUILD="$BATS_TEST_TMPDIR/b" all
	[ "$status" -eq 0 ]
	[[ "$output" == *"✓ CUDA"* ]]
	[[ "$output" == *"lib/nn/cuda/conv.cu"* ]]
	[[ "$output" == *"-DSMEARSEG_CUDA=1"* ]]
	# the CUDA libraries are linked into the backend's shared library
	# alone, never into a program
	grep -- '-o [^ ]*libsmearseg-cuda.so ' <<<"$output" | grep -q -- '-lcublas -lcudart'
	! grep -- '-o bin/' <<<"$output" | grep -q -- '-lcublas\|-lcudart\|-lnccl'
}

@test "build: a CPU run of a CUDA build loads no CUDA library; --device cuda loads it, and says why it cannot" {
	b=${SMEARSEG_BUILD:-build}
	case $b in /*) ;; *) b=$TOP/$b ;; esac
	[ -f "$b/libsmearseg-cuda.so" ] || skip "this build has no CUDA backend"
	! ldd "$TOP/bin/unet-infer" | grep -q 'libcublas\|libcudart\|libnccl'
	! ldd "$TOP/bin/unet-train" | grep -q 'libcublas\|libcudart\|libnccl'
	ldd "$b/libsmearseg-cuda.so" | grep -q libcublas
	# a file that is no library where the backend should be
	echo 'not a library' >"$BATS_TEST_TMPDIR/bogus.so"
	run --separate-stderr env SMEARSEG_CUDA_LIB="$BATS_TEST_TMPDIR/bogus.so" \
	    unet-infer -d cuda "$BATS_TEST_TMPDIR/bogus.so"
	assert_fails_cleanly "unet-infer: the cuda device could not be loaded: $BATS_TEST_TMPDIR/bogus.so: "
	# the real one: it loads, and without a GPU says so
	run --separate-stderr unet-infer -d cuda -m "$TOP/share/models/default.safetensors" \
	    "$BATS_TEST_DIRNAME/fixtures/unet/val.pam"
	[ "$status" -ne 0 ] || skip "a GPU is here: test/cuda.bats runs on it"
	[[ "$stderr" == "unet-infer: no CUDA device here"* ]]
}

@test "build: gpu-bundle packs what check-cuda needs; run unpacks it and runs check-cuda" {
	b=${SMEARSEG_BUILD:-build}
	case $b in /*) ;; *) b=$TOP/$b ;; esac
	[ -f "$b/libsmearseg-cuda.so" ] || skip "this build has no CUDA backend"
	[ -f "$b/bench/bench_unet" ] || make -C "$TOP" -s bench-build
	f=$BATS_TEST_TMPDIR/b.tar.xz
	SMEARSEG_BUILD=$b sh "$TOP/test/gpu-bundle" pack "$f"
	tar -tJf "$f" >"$BATS_TEST_TMPDIR/list"
	for p in bin/unet-train bin/tensor-diff build/libsmearseg-cuda.so \
	    build/test/test_backend_ops build/bench/bench_unet \
	    root/usr/bin/bats root/usr/bin/jpegtopnm; do
		grep -qx "$p" "$BATS_TEST_TMPDIR/list"
	done
	grep -q "^root/lib/libnetpbm\.so" "$BATS_TEST_TMPDIR/list"
	# OpenMPI travels where the programs are built with it
	if ldd "$TOP/bin/unet-train" | grep -q libmpi; then
		grep -qx root/usr/bin/mpirun "$BATS_TEST_TMPDIR/list"
		grep -q "^root/lib/libmpi\.so" "$BATS_TEST_TMPDIR/list"
	fi
	# no C library and no CUDA library travels: the other machine's serve
	! grep -q "^root/lib/\(libc\|libcudart\|libcublas\|libnccl\)\.so" "$BATS_TEST_TMPDIR/list"
	# run, in a checkout of its own, with every GPU hidden: it unpacks,
	# finds CUDA's libraries, and check-cuda stops with its reason
	t=$BATS_TEST_TMPDIR/t
	mkdir -p "$t/test"
	cp "$TOP/test/gpu-bundle" "$TOP/test/check-cuda" "$t/test/"
	CUDA_VISIBLE_DEVICES= run sh "$t/test/gpu-bundle" run "$f"
	[ "$status" -ne 0 ]
	[[ "$output" == *"check-cuda: cannot run: no CUDA device here"* ]]
	[ -x "$t/bin/unet-train" ]
}
