# demo.mk - the main job on the shipped data and model, for a first look.
#
#   make demo     build, make a 144-tile test set from share/blocks with the
#                 dataset pipeline, segment it and a few real smears with
#                 share/models/default.safetensors, and write results/demo/
#
# Everything the demo writes goes under $(DEMO); results/demo/index.md
# says what each file is.  The real smears are held-out BCCD images
# (share/eval/bccd, which no training stage uses), segmented by
# smear-segment, which measures each one's scale (DEMO_SCALE=F imposes
# the factor F instead).

DEMO        ?= results/demo
DEMO_MODEL  ?= $(SRCDIR)/share/models/default.safetensors
DEMO_SMEARS ?= 00005 00136 00271 00366
DEMO_SCALE  ?=
DEMO_THREADS ?= 2

.PHONY: demo demo-run

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory demo-run

demo-run:
	@PATH='$(CURDIR)/bin':"$$PATH" DEMO='$(DEMO)' MODEL='$(DEMO_MODEL)' \
	    SMEARS='$(DEMO_SMEARS)' SCALE='$(DEMO_SCALE)' \
	    THREADS='$(DEMO_THREADS)' SRCDIR='$(SRCDIR)' MAKE='$(MAKE)' \
	    sh $(SRCDIR)/pipelines/demo.sh
