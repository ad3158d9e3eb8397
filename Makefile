# smearseg - blood-smear segmentation as a pipeline of small Unix filters.
#
#   make            build every program into bin/
#   make check      run every test (C unit tests + bats), one summary line
#   make check-cuda every GPU test and a short GPU benchmark (needs a GPU)
#   make gpu-bundle the same, packed for a GPU machine without the packages
#   make demo       the main job on the shipped data and model
#   make eval-real  MODEL=...: figures on real images only (pipelines/eval.mk)
#   make bench      benchmarks, one "bench: NAME VALUE UNIT" line each
#   make deps       install missing Debian packages (as root) or print the line
#   make deps-test  the same for the packages only the tests use (chromium)
#   make install    PREFIX=/usr/local DESTDIR=
#   make check SANITIZE=address,undefined
#                   the same tests on programs built with ASan + UBSan
#   make fuzz SECONDS=N
#                   every libFuzzer harness for N seconds (clang)
#
# Switches (override on the command line):
BLAS    ?= openblas      # openblas | none (none: a slow portable GEMM)
MPI     ?= auto          # auto | 0 | 1
CUDA    ?= auto          # auto | 0 | 1
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
OPT     ?= -O2
CUDA_HOME ?= /usr/local/cuda
CUDA_ARCH ?= 90          # nvcc's target GPU, sm_$(CUDA_ARCH) (90: H100/H200)
NCCL    ?= auto          # auto | 0: with CUDA, NCCL where nccl.h is found
SANITIZE ?=             # e.g. address,undefined: a sanitizer build

SRCDIR  ?= .
VPATH   = $(SRCDIR)
override SANITIZE := $(strip $(SANITIZE))
# a sanitizer build keeps its objects apart; its programs go to bin/ too,
# and bin/.variant makes a switch between the two relink them
ifeq ($(SANITIZE),)
BUILD   ?= build
else
BUILD   ?= build-san
endif
VARIANT := $(if $(SANITIZE),sanitize=$(SANITIZE),plain)

.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all check check-cuda gpu-bundle test-unit test-bats demo bench bench-build deps deps-test install clean dataset plots

# --- feature detection -----------------------------------------------------
strip_ = $(strip $(1))
override BLAS := $(call strip_,$(BLAS))
override MPI  := $(call strip_,$(MPI))
override CUDA := $(call strip_,$(CUDA))
override CUDA_ARCH := $(call strip_,$(CUDA_ARCH))
override NCCL := $(call strip_,$(NCCL))

ifeq ($(filter $(BLAS),openblas none),)
$(error BLAS must be openblas or none, not '$(BLAS)')
endif
ifeq ($(filter $(MPI),auto 0 1),)
$(error MPI must be auto, 0 or 1, not '$(MPI)')
endif
ifeq ($(filter $(CUDA),auto 0 1),)
$(error CUDA must be auto, 0 or 1, not '$(CUDA)')
endif

PKGS := netpbm yaml-0.1 jansson
HAVE_PKGCONFIG := $(shell command -v pkg-config 2>/dev/null)
ifeq ($(BLAS),openblas)
  ifneq ($(shell pkg-config --exists openblas 2>/dev/null && echo y),y)
    $(info ✗ OpenBLAS not found (pkg-config openblas); run 'make deps' or build with BLAS=none)
  else
    $(info ✓ OpenBLAS found: $(shell pkg-config --modversion openblas))
  endif
  PKGS += openblas
  CPPFLAGS_BLAS = -DSMEARSEG_BLAS=1
else
  $(info ✗ BLAS=none: using the portable GEMM (slow))
  CPPFLAGS_BLAS = -DSMEARSEG_BLAS=0
endif

MPICC := $(shell command -v mpicc 2>/dev/null)
ifeq ($(MPI),auto)
  ifneq ($(MPICC),)
    override MPI := 1
  else
    override MPI := 0
  endif
endif
ifeq ($(MPI),1)
  ifeq ($(MPICC),)
    $(error MPI=1 but mpicc was not found)
  endif
  $(info ✓ MPI: $(MPICC))
else
  $(info ✗ MPI off (no mpicc, or MPI=0): unet-train runs single-process)
endif

NVCC := $(shell command -v nvcc 2>/dev/null || { test -x $(CUDA_HOME)/bin/nvcc && echo $(CUDA_HOME)/bin/nvcc; })
# The toolkit's root is where cuBLAS is, not where nvcc is: nvcc may be a
# wrapper script in /usr/local/bin, or on PATH while CUDA_HOME is elsewhere.
CUDA_ROOT := $(firstword $(foreach d,$(CUDA_HOME) $(patsubst %/bin/nvcc,%,$(NVCC)),\
               $(if $(wildcard $(d)/lib64/libcublas.so),$(d))))
ifeq ($(CUDA),auto)
  ifneq ($(NVCC),)
    ifneq ($(CUDA_ROOT),)
      override CUDA := 1
    else
      $(info ✗ CUDA: $(NVCC) found but no lib64/libcublas.so under CUDA_HOME ($(CUDA_HOME)) or beside nvcc)
      override CUDA := 0
    endif
  else
    override CUDA := 0
  endif
endif
ifeq ($(CUDA),1)
  ifeq ($(NVCC),)
    $(error CUDA=1 but nvcc was not found (set CUDA_HOME))
  endif
  ifeq ($(CUDA_ROOT),)
    $(error CUDA=1 but lib64/libcublas.so is not under CUDA_HOME ($(CUDA_HOME)) nor beside $(NVCC))
  endif
  $(info ✓ CUDA: $(NVCC): the cuda backend (lib/nn/cuda) is built for sm_$(CUDA_ARCH))
  CPPFLAGS_CUDA = -DSMEARSEG_CUDA=1
  # as-needed: only the programs that open a backend load the libraries
  # NCCL: the gradient allreduce in device memory under MPI
  ifneq ($(NCCL),0)
    NCCL_H := $(firstword $(wildcard $(CUDA_ROOT)/include/nccl.h /usr/include/nccl.h))
  endif
  ifneq ($(NCCL_H),)
    $(info ✓ NCCL: $(NCCL_H): GPU gradients are averaged in device memory)
    NVCC_NCCL = -DSMEARSEG_NCCL=1
    LIB_NCCL = -lnccl
  else
    $(info ✗ NCCL off (no nccl.h, or NCCL=0): GPU gradients go through host MPI)
  endif
  # the backend is a shared library of its own (lib/nn/backend.c loads
  # it for --device cuda): only it links the CUDA libraries, and the
  # programs export the two functions it calls back
  CUDA_LIBS = -L$(CUDA_ROOT)/lib64 -Wl,-rpath,$(CUDA_ROOT)/lib64 \
              $(LIB_NCCL) -lcublas -lcudart -lstdc++
  CUDA_SO   = $(BUILD)/libsmearseg-cuda.so
  CPPFLAGS_CUDA += -DSMEARSEG_CUDA_BUILT='"$(abspath $(CUDA_SO))"'
  LDFLAGS_CUDA = -Wl,--dynamic-list=$(SRCDIR)/lib/nn/cuda/exports.list -ldl
else
  $(info ✗ CUDA off (no nvcc or cuBLAS, or CUDA=0): CPU backend only)
endif

PKG_CFLAGS := $(if $(HAVE_PKGCONFIG),$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(if $(HAVE_PKGCONFIG),$(shell pkg-config --libs $(PKGS) 2>/dev/null),-lnetpbm -lyaml -ljansson -lopenblas)

CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 -Wall -Wextra -Wno-unused-parameter -fopenmp
ifneq ($(SANITIZE),)
  $(info ✓ SANITIZE=$(SANITIZE): objects in $(BUILD))
  CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=$(SANITIZE)
endif
# What the sanitizers do when they find something: fail the test with a
# status no program uses.  Leaks are not errors: die() exits with its
# allocations in place, as every program may.
SAN_ENV := ASAN_OPTIONS=detect_leaks=0:exitcode=86:abort_on_error=0 \
    UBSAN_OPTIONS=halt_on_error=1:exitcode=87:print_stacktrace=1
CPPFLAGS += -I$(SRCDIR)/lib -I/usr/include/netpbm $(PKG_CFLAGS) $(CPPFLAGS_BLAS) \
            -D_POSIX_C_SOURCE=200809L -DSMEARSEG_PREFIX='"$(PREFIX)"'
LDLIBS   += $(PKG_LIBS) -lnetpbm -lm -fopenmp $(LDFLAGS_CUDA)
CPPFLAGS += $(CPPFLAGS_CUDA)
NVCCFLAGS ?= -O2 -g -std=c++17 -arch=sm_$(CUDA_ARCH) \
             -Xcompiler -Wall,-Wextra,-Wno-unused-parameter
NVCCFLAGS += -Xcompiler -fPIC

# --- sources ---------------------------------------------------------------
LIB_SRCS   := $(sort $(wildcard $(SRCDIR)/lib/*.c $(SRCDIR)/lib/nn/*.c $(SRCDIR)/lib/nn/cpu/*.c))
ifeq ($(CUDA),1)
CUDA_C_SRCS:= $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/lib/nn/cuda/*.c)))
CU_SRCS    := $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/lib/nn/cuda/*.cu)))
endif
LIB_SRCS   := $(patsubst $(SRCDIR)/%,%,$(LIB_SRCS))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CUDA_OBJS  := $(CU_SRCS:%.cu=$(BUILD)/%.o) $(CUDA_C_SRCS:%.c=$(BUILD)/%.pic.o)
MPI_SRC    := $(if $(filter 1,$(MPI)),mpi/comm_mpi.c,mpi/comm_none.c)
FILTER_SRCS:= $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/filters/*.c)))
SCRIPTS    := bin/smear-segment
PROGRAMS   := $(FILTER_SRCS:filters/%.c=bin/%) $(SCRIPTS)
UNIT_SRCS  := $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/test/unit/*.c)))
UNIT_BINS  := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
BENCH_SRCS := $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/test/bench/*.c)))
BENCH_BINS := $(BENCH_SRCS:test/bench/%.c=$(BUILD)/bench/%)
LIBA       := $(BUILD)/libsmearseg.a

all: $(PROGRAMS) $(UNIT_BINS) $(CUDA_SO)

# bin/.variant holds the kind of the last build of bin/; it is rewritten
# (and so every program relinked) when that changes, by any make but
# those that build nothing in bin/
ifneq ($(filter-out fuzz fuzz-build deps clean,$(or $(MAKECMDGOALS),all)),)
$(shell [ "$$(cat bin/.variant 2>/dev/null)" = '$(VARIANT)' ] || \
    { mkdir -p bin && echo '$(VARIANT)' >bin/.variant; })
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The CUDA backend: compiled wherever nvcc is found (CUDA=auto), so that a
# CUDA compile error fails the build, and with it make check, even on a
# machine without a GPU.
$(BUILD)/%.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(NVCC_NCCL) -I$(SRCDIR)/lib -MMD -MP -c -o $@ $<

$(BUILD)/%.pic.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(CUDA_SO): $(CUDA_OBJS)
	$(CC) -shared -o $@ $^ $(CUDA_LIBS)

# backend.c lists the built backends and nccl.cu has NCCL or not: both
# are recompiled when CUDA or NCCL is switched in the same build directory.
# (The stamp's "so" marks the backend built as a shared library, with
# -fPIC: objects of an older build are compiled again.)
GPU_STAMP := $(BUILD)/gpu-cuda$(CUDA)-nccl$(if $(NVCC_NCCL),1,0)-so.stamp
$(BUILD)/lib/nn/backend.o $(CUDA_OBJS): $(GPU_STAMP)
$(GPU_STAMP):
	@mkdir -p $(@D)
	@rm -f $(BUILD)/gpu-*.stamp $(BUILD)/cuda-*.stamp
	@touch $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The MPI layer is the only code compiled with mpicc; every other program
# links the no-op layer, so a build without MPI keeps one code path.
$(BUILD)/mpi/comm_mpi.o: mpi/comm_mpi.c
	@mkdir -p $(@D)
	$(MPICC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# unet-train alone carries the data-parallel layer, linked by mpicc when
# MPI is on.
COMM_OBJ := $(BUILD)/$(MPI_SRC:.c=.o)
TRAIN_LD := $(if $(filter 1,$(MPI)),$(MPICC),$(CC))
CPPFLAGS += -I$(SRCDIR)/mpi
bin/unet-train: $(BUILD)/filters/unet-train.o $(COMM_OBJ) $(LIBA) bin/.variant
	@mkdir -p $(@D)
	$(TRAIN_LD) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LDLIBS)

# smear-segment is a shell pipeline of the programs; it finds the share
# directory as they do, with the install prefix as the last resort.
bin/smear-segment: pipelines/smear-segment.sh
	@mkdir -p $(@D)
	sed 's|@PREFIX@|$(PREFIX)|g' $< >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

bin/%: $(BUILD)/filters/%.o $(LIBA) bin/.variant
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/test/%: $(BUILD)/test/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# benchmark programs: test/bench/NAME.c -> $(BUILD)/bench/NAME
$(BUILD)/bench/%: $(BUILD)/test/bench/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Objects are kept: they are intermediate files of the link rules, which
# Make would delete after a build (and so relink every program on the
# next, say make check after make demo).
.SECONDARY: $(LIB_OBJS) $(CUDA_OBJS) $(BUILD)/filters/unet-train.o $(COMM_OBJ) \
    $(FILTER_SRCS:%.c=$(BUILD)/%.o) $(UNIT_SRCS:%.c=$(BUILD)/%.o) \
    $(BENCH_SRCS:%.c=$(BUILD)/%.o)

# --- tests -----------------------------------------------------------------
check: deps deps-test
	@$(MAKE) --no-print-directory all
	@SMEARSEG_BUILD=$(BUILD) $(if $(SANITIZE),$(SAN_ENV)) \
	    sh $(SRCDIR)/test/run-tests

# --- the GPU tests: one command for one short GPU loan (test/check-cuda)
check-cuda: deps
ifeq ($(CUDA),1)
	@$(MAKE) --no-print-directory bench-build
	@SMEARSEG_BUILD=$(BUILD) sh $(SRCDIR)/test/check-cuda
else
	@echo "check-cuda: this build has no CUDA backend (nvcc not found, or CUDA=0)" >&2
	@exit 1
endif

# --- the GPU tests on a machine without the project's packages: pack here,
# then there, in a checkout of the same commit: sh test/gpu-bundle run FILE
gpu-bundle:
ifeq ($(CUDA),1)
	@$(MAKE) --no-print-directory bench-build
	@SMEARSEG_BUILD=$(BUILD) sh $(SRCDIR)/test/gpu-bundle pack \
	    $(BUILD)/gpu-bundle.tar.xz
else
	@echo "gpu-bundle: this build has no CUDA backend (nvcc not found, or CUDA=0)" >&2
	@exit 1
endif

# --- benchmarks: every test/bench/*.sh prints "bench: NAME VALUE UNIT" lines
bench-build: all $(BENCH_BINS)
bench: deps
	@$(MAKE) --no-print-directory bench-build
	@for b in $(SRCDIR)/test/bench/*.sh; do \
	    [ -f "$$b" ] || continue; \
	    SMEARSEG_BUILD=$(BUILD) sh "$$b" || exit 1; \
	done

# --- fuzzing: test/fuzz/fuzz_NAME.c -> build-fuzz/fuzz_NAME (libFuzzer) ---
# Each harness runs SECONDS seconds from its committed seeds
# (test/fuzz/corpus/NAME) and what earlier runs found (build-fuzz/corpus);
# a crash stops make fuzz with the input in build-fuzz/crash-*.
FUZZ_CC     ?= clang
SECONDS     ?= 60
FUZZ_BUILD  := build-fuzz
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -std=c11 -Wall -Wno-unused-parameter \
    -Wno-unknown-pragmas -fno-omit-frame-pointer $(FUZZ_SAN) \
    -fsanitize=fuzzer-no-link
FUZZ_CPPFLAGS = $(filter-out -DSMEARSEG_PREFIX=% -DSMEARSEG_CUDA=%,$(CPPFLAGS)) \
    -DSMEARSEG_PREFIX='"$(PREFIX)"' \
    -DFUZZ_SHARE='"$(abspath $(SRCDIR)/share)"' \
    -DFUZZ_TILE='"$(abspath $(SRCDIR)/test/fixtures/unet/val.pam)"'
FUZZ_WRAP   := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign \
    -Wl,--wrap=fopen,--wrap=fdopen,--wrap=fclose
FUZZ_SRCS   := $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/test/fuzz/fuzz_*.c)))
FUZZ_BINS   := $(FUZZ_SRCS:test/fuzz/%.c=$(FUZZ_BUILD)/%)
# the harnesses run the CPU backend only; the OpenMP pragmas are not
# compiled (serial code), but threads.c calls the OpenMP runtime: libomp
FUZZ_LIBOBJS:= $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(filter-out lib/nn/cuda/%,$(LIB_SRCS)))
FUZZ_LIBA   := $(FUZZ_BUILD)/libsmearseg.a
FUZZ_LIBS   := $(filter-out -fopenmp $(CUDA_LIBS),$(LDLIBS)) -fopenmp

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIBA): $(FUZZ_LIBOBJS)
	rm -f $@
	$(AR) rcs $@ $^

# the registry of fuzz.h, without coverage instrumentation
$(FUZZ_BUILD)/test/fuzz/registry.o: test/fuzz/registry.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(filter-out -fsanitize=fuzzer-no-link,$(FUZZ_CFLAGS)) \
	    -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/test/fuzz/fuzz_%.o \
    $(FUZZ_BUILD)/test/fuzz/registry.o $(FUZZ_LIBA)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_WRAP) -o $@ \
	    $(filter %.o,$^) $(FUZZ_LIBA) $(FUZZ_LIBS)

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

.SECONDARY: $(FUZZ_LIBOBJS) $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/%.o)
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	@for f in $(FUZZ_BINS); do \
	    n=$${f##*/fuzz_}; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	    echo "fuzz: $$n, $(SECONDS) s"; \
	    ASAN_OPTIONS=detect_leaks=0 $$f -max_total_time=$(SECONDS) \
	        -rss_limit_mb=2048 -max_len=262144 -timeout=20 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ \
	        $(FUZZ_BUILD)/corpus/$$n $(SRCDIR)/test/fuzz/corpus/$$n \
	        2>$(FUZZ_BUILD)/$$n.log || { tail -40 $(FUZZ_BUILD)/$$n.log; exit 1; }; \
	    grep -E '^stat::number_of_executed_units|^stat::new_units_added' \
	        $(FUZZ_BUILD)/$$n.log | sed "s/^/fuzz: $$n /"; \
	done

# --- pipelines: dataset, demo and plots are Make fragments in pipelines/
-include $(wildcard $(SRCDIR)/pipelines/*.mk)

# --- dependencies ------------------------------------------------------------
DEB_REQUIRED := build-essential pkg-config libnetpbm-dev netpbm libyaml-dev libjansson-dev libopenblas-dev bats xz-utils
DEB_OPTIONAL := libopenmpi-dev openmpi-bin python3-numpy python3-yaml gnuplot-nox groff-base clang libomp-dev
# Only the tests use these: chromium renders smear-segment's HTML report
# headless (test/report.bats, skipped without it).  Optional: a failed
# install does not stop make check.
DEB_TEST     := chromium
deps:
	@sh $(SRCDIR)/pipelines/deps.sh $(DEB_REQUIRED) -- $(DEB_OPTIONAL)
deps-test:
	@sh $(SRCDIR)/pipelines/deps.sh -- $(DEB_TEST)

# --- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/smearseg \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	cd $(SRCDIR)/share && find . -path ./man -prune -o -type f -print | \
	    while read f; do install -D -m 644 "$$f" "$(DESTDIR)$(PREFIX)/share/smearseg/$$f"; done
	install -m 644 $(SRCDIR)/share/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/smearseg/pipelines
	install -m 644 $(filter-out %/smear-segment.sh,$(wildcard \
	    $(SRCDIR)/pipelines/*.sh $(SRCDIR)/pipelines/*.mk \
	    $(SRCDIR)/pipelines/*.awk)) $(DESTDIR)$(PREFIX)/share/smearseg/pipelines/
ifeq ($(CUDA),1)
	install -D -m 755 $(CUDA_SO) $(DESTDIR)$(PREFIX)/lib/smearseg/libsmearseg-cuda.so
endif

clean:
	rm -rf $(BUILD) build build-san build-fuzz bin
