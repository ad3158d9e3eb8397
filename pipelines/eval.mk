# eval.mk - score a model on real images only (pipelines/eval-real.sh).
#
#   make eval-real       build the programs and the two dataset stages it
#                        reads ($(DATASET)/samples.test.pam for the test
#                        split's cells, $(DATASET)/test.pam for the
#                        synthetic sanity check), then print one
#                        "eval: NAME VALUE" line per figure
#
# Variables (on the command line):
#   MODEL=share/models/default.safetensors    the model to score; several
#                        (space-separated) are scored as one ensemble, their
#                        probabilities averaged (unet-infer with a -m each)
#   SOURCES=../shared/data/sources            outside data: BBBC041Seg, and
#                        originals that share/blocks lacks; parts whose
#                        data is missing are skipped, saying so
#   EVAL_THREADS=2       unet-infer threads
#   EVAL_TTA=            1: unet-infer --tta (eight symmetries averaged;
#                        eight times the inference time)
#   EVAL_RAW=            1: score the network's own class maps, without
#                        cell-vote (eval-real.sh -R)
#   EVAL_SPLIT=test      val: the validation split's BCCD smears, cells
#                        and tiles alone, the held-out sets skipped
#                        (eval-real.sh -S val): figures that may choose
#                        between runs
#   EVAL_KEEP=           a directory to keep the class maps and the
#                        per-box / per-cell tables in (eval-real.sh -k)
#   DATASET, SEED, SIZE  as for make dataset (pipelines/dataset.mk)
#
# The figures and how each is measured: the header of
# pipelines/eval-real.sh, and share/eval/README.md.

MODEL        ?= $(SRCDIR)/share/models/default.safetensors
SOURCES      ?= $(SRCDIR)/../shared/data/sources
EVAL_THREADS ?= 2
EVAL_KEEP    ?=
EVAL_TTA     ?=
EVAL_RAW     ?=
EVAL_SPLIT   ?= test
# dataset.mk's default, in case this file is read before it
DATASET      ?= dataset

.PHONY: eval-real

eval-real: $(PROGRAMS) $(DATASET)/samples.$(EVAL_SPLIT).pam \
    $(DATASET)/$(EVAL_SPLIT).pam
	@sh $(SRCDIR)/pipelines/eval-real.sh -j '$(EVAL_THREADS)' \
	    -s '$(SOURCES)' -d '$(DATASET)' -S '$(EVAL_SPLIT)' \
	    $(if $(EVAL_KEEP),-k '$(EVAL_KEEP)') \
	    $(if $(filter 1,$(EVAL_TTA)),-t) $(if $(filter 1,$(EVAL_RAW)),-R) \
	    $(foreach m,$(MODEL),'$(m)')
