# dataset.mk - the synthetic training set, built stage by stage as files.
#
#   make dataset         $(DATASET)/{train,val,test}.pam (RGB_LABEL tiles)
#                        and .jsonl (one record per tile), and stats.txt
#   make dataset-stats   print the per-class pixel shares and object counts
#   make contact-sheet   $(DATASET)/contact-sheet.png: the first tiles of
#                        train beside their label maps, for eyes
#
# Variables (on the command line):
#   SEED=1               one seed for every stage; the same seed gives the
#                        same bytes
#   SIZE=default         default: 2,000 / 250 / 250 tiles; reference: the
#                        reference work's 65,350 / 6,560 / 6,560; tiny:
#                        36 / 6 / 6 on small backgrounds, for the tests
#                        (36 = one round of the class combinations);
#                        demo: a 144-tile test split (4 rounds) for make demo
#   DATASET=dataset      where the stages go
#   SAMPLES=             a cell-sample stream to use instead of the one
#                        pipelines/blocks.sh makes from share/blocks
#   REAL_SHARE=0.2       share of the training tiles cut from real BCCD
#                        smear fields (label-smear) instead of the
#                        synthetic backgrounds: their red cells are
#                        labelled healthy, and the white cells and
#                        platelets in their boxes carry the partial
#                        labels White cell and Platelet (share/models/README.md has
#                        what it did); 0 gives synthetic tiles alone
#   CELL_SPREAD=0        make-background -e for the training split: each
#                        red cell's own departure from its background's
#                        stain (s.d.; 0: the small per-channel gain
#                        alone); validation and test keep 0
#   RBC_FEATHER=2        make-background -f for the training split: the
#                        soft edge of the red cells' image, in pixels
#                        (the labels stay where 2 puts them)
#   INFECTED_MIX=0.1-0.9 make-background -m for the training split: the
#                        range of the infected share of a mixed
#                        background
#   BLUE_SHARE=0.3       make-background -b for the training split: the
#                        share of its backgrounds whose red cells take a
#                        bluer stain
#   REDDER_SHARE=0.3     make-background -R for the training split: the
#                        share whose red cells take a redder stain
#   SPECK_MARGIN=0       make-background -p for the training split: the
#                        least gap between a stain speck and a red cell
#   RBC_COVERAGE=0.08-0.25  make-background -c for the training split:
#                        the share of a background under red cells, or a
#                        range LO-HI that each background draws from (the
#                        default: sparse to the usual 0.25, down to a few
#                        lone red cells in a window)
#   OWN_SHARE=0          make-background -U for the training split: the
#                        share of its backgrounds whose red cells keep
#                        their own colours, all from one source that
#                        holds both classes (the NIH cells)
#   WHOLE_WBC=1          the partial label White cell covers the whole
#                        white cell of a BCCD box, its cytoplasm too
#                        (label-smear --whole-cell); 0: the nucleus alone
#
# Stages (all under $(DATASET)/):
#   samples.pam                      every cell sample (blocks.sh, crop-cells)
#   samples.{train,val,test}.pam     split-dataset, grouped by slide/patient
#   bg.{train,val,test}.pam          make-background, from that split's RBCs
#   train.groups, smears.pam         the BCCD smears whose cells all went
#                                    to the training split, labelled by
#                                    label-smear (smears.sh): real
#                                    backgrounds for the training tiles
#   {train,val,test}.pam + .jsonl    compose-tile, from that split's
#                                    backgrounds and other cells
#   stats.txt, contact-sheet.png     tile-stats, contact-sheet.sh
# Each stage also depends on a small ".STAGE.args" file that holds its
# arguments and is rewritten only when they change, so a new SEED or SIZE
# rebuilds exactly the stages it affects.  Every stage writes a temporary
# file and renames it, so an interrupted build leaves no half-made stage;
# the three splits, and each tile stream with its records, are made by
# one grouped rule each, so make -j is safe.

SEED    ?= 1
SIZE    ?= default
DATASET ?= dataset
SAMPLES ?=
REAL_SHARE ?= 0.2
CELL_SPREAD ?= 0
RBC_FEATHER ?= 2
INFECTED_MIX ?= 0.1-0.9
BLUE_SHARE ?= 0.3
REDDER_SHARE ?= 0.3
SPECK_MARGIN ?= 0
RBC_COVERAGE ?= 0.08-0.25
OWN_SHARE ?= 0
WHOLE_WBC ?= 1

.PHONY: dataset dataset-stats contact-sheet

# Every background draws one stain that all its red cells take, so the
# number of backgrounds is the number of red-cell stains a split shows:
# the default makes 96 training backgrounds of 500x500 (24 of 1000x1000
# before, the same area); what that changed is in share/models/README.md.
ifeq ($(SIZE),default)
  DS_TILES_train := 2000
  DS_TILES_val   := 250
  DS_TILES_test  := 250
  DS_BGS_train   := 96
  DS_BGS_val     := 24
  DS_BGS_test    := 24
  DS_BGSIDE      := 500
else ifeq ($(SIZE),reference)
  DS_TILES_train := 65350
  DS_TILES_val   := 6560
  DS_TILES_test  := 6560
  DS_BGS_train   := 240
  DS_BGS_val     := 30
  DS_BGS_test    := 30
  DS_BGSIDE      := 1000
else ifeq ($(SIZE),demo)
  DS_TILES_train := 36
  DS_TILES_val   := 6
  DS_TILES_test  := 144
  DS_BGS_train   := 3
  DS_BGS_val     := 3
  DS_BGS_test    := 6
  DS_BGSIDE      := 1000
else ifeq ($(SIZE),tiny)
  DS_TILES_train := 36
  DS_TILES_val   := 6
  DS_TILES_test  := 6
  DS_BGS_train   := 3
  DS_BGS_val     := 3
  DS_BGS_test    := 3
  DS_BGSIDE      := 320
else
  $(error SIZE must be default, reference, demo or tiny, not '$(SIZE)')
endif
DS_NONDIGIT := $(SEED)
$(foreach d,0 1 2 3 4 5 6 7 8 9,\
    $(eval DS_NONDIGIT := $(subst $(d),,$(DS_NONDIGIT))))
ifneq ($(strip $(DS_NONDIGIT))$(if $(strip $(SEED)),,empty),)
  $(error SEED must be a non-negative integer, not '$(SEED)')
endif

DS_SPLITS  := train val test
DS_NUM_train := 0
DS_NUM_val   := 1
DS_NUM_test  := 2
DS_TILES   := $(DS_SPLITS:%=$(DATASET)/%.pam)
DS_RECORDS := $(DS_SPLITS:%=$(DATASET)/%.jsonl)
DS_BLOCKS   = $(shell find $(SRCDIR)/share/blocks -type f 2>/dev/null | sort)

# Arguments of each stage.  Backgrounds and tiles of split S get the seed
# SEED followed by S's digit, so that the splits draw unrelated streams.
# The training split's make-background settings, VARIABLE:flag:neutral.
# Each variable away from its neutral value (the option's own default)
# is passed as -flag VALUE, in this order, and named in the default
# model's metadata (model.mk).
DS_TRAIN_BG := CELL_SPREAD:e:0 RBC_FEATHER:f:2 INFECTED_MIX:m:0.1-0.9 \
    BLUE_SHARE:b:0 REDDER_SHARE:R:0 SPECK_MARGIN:p:0 RBC_COVERAGE:c:0.25 \
    OWN_SHARE:U:0
ds_field = $(word $(2),$(subst :, ,$(1)))
ds_set   = $(filter-out $(call ds_field,$(1),3),$($(call ds_field,$(1),1)))
DS_TRAIN_BG_SET   = $(strip $(foreach o,$(DS_TRAIN_BG),$(if $(call \
    ds_set,$(o)),$(call ds_field,$(o),1)=$($(call ds_field,$(o),1)))))
DS_TRAIN_BG_FLAGS = $(strip $(foreach o,$(DS_TRAIN_BG),$(if $(call \
    ds_set,$(o)),-$(call ds_field,$(o),2) $($(call ds_field,$(o),1)))))

ds_bg_args   = -s $(SEED)$(DS_NUM_$(1)) -n $(DS_BGS_$(1)) \
    -W $(DS_BGSIDE) -H $(DS_BGSIDE)$(if $(filter train,$(1)),$(if \
    $(DS_TRAIN_BG_FLAGS), $(DS_TRAIN_BG_FLAGS)))
ds_tile_args = -s $(SEED)$(DS_NUM_$(1)) -n $(DS_TILES_$(1)) \
    $(if $(filter train,$(1)),-R $(REAL_SHARE))
DS_ARGS_samples := $(if $(SAMPLES),copy $(abspath $(SAMPLES)),blocks)
DS_ARGS_split   := -s $(SEED)
DS_ARGS_smears  := $(if $(filter 1,$(WHOLE_WBC)),-W)
$(foreach s,$(DS_SPLITS),$(eval DS_ARGS_bg.$(s) := $(call ds_bg_args,$(s))))
$(foreach s,$(DS_SPLITS),$(eval DS_ARGS_tiles.$(s) := $(call ds_tile_args,$(s))))

# $(DATASET)/.STAGE.args holds the arguments of STAGE.  Its recipe runs
# every time but rewrites the file only when they changed; make looks at
# the file's time again after the recipe, so the stages that depend on it
# are rebuilt only then.
DS_ARGFILES := $(foreach a,samples split smears $(DS_SPLITS:%=bg.%) \
    $(DS_SPLITS:%=tiles.%),$(DATASET)/.$(a).args)
.PHONY: ds-force
ds-force:
$(DS_ARGFILES): $(DATASET)/.%.args: ds-force
	@mkdir -p '$(@D)'
	@printf '%s\n' '$(DS_ARGS_$*)' | cmp -s - '$@' || \
	    printf '%s\n' '$(DS_ARGS_$*)' >'$@'

dataset: $(DS_TILES) $(DS_RECORDS) $(DATASET)/stats.txt

dataset-stats: $(DATASET)/stats.txt
	@cat $(DATASET)/stats.txt

contact-sheet: $(DATASET)/contact-sheet.png
	@echo "contact sheet: $(DATASET)/contact-sheet.png"

ifneq ($(SAMPLES),)
$(DATASET)/samples.pam: $(SAMPLES) $(DATASET)/.samples.args
	cp '$(SAMPLES)' '$@.tmp'
	mv '$@.tmp' '$@'
else
$(DATASET)/samples.pam: $(SRCDIR)/pipelines/blocks.sh $(DS_BLOCKS) \
    bin/crop-cells $(DATASET)/.samples.args
	PATH='$(CURDIR)/bin':"$$PATH" sh $(SRCDIR)/pipelines/blocks.sh \
	    >'$@.tmp'
	mv '$@.tmp' '$@'
endif

# One command makes the three splits (a grouped pattern rule).
$(DATASET)/%.train.pam $(DATASET)/%.val.pam $(DATASET)/%.test.pam: \
    $(DATASET)/%.pam $(DATASET)/.split.args bin/split-dataset
	bin/split-dataset $(DS_ARGS_split) -o '$(DATASET)/$*' '$<'

$(DS_SPLITS:%=$(DATASET)/bg.%.pam): $(DATASET)/bg.%.pam: \
    $(DATASET)/samples.%.pam $(DATASET)/.bg.%.args bin/make-background
	bin/make-background $(call ds_bg_args,$*) '$<' >'$@.tmp'
	mv '$@.tmp' '$@'

# The real smear fields: only smears all of whose samples are in the
# training split (split-dataset keeps a smear's samples together), so no
# validation or test cell is ever seen in a training background.  An
# empty group list (a SAMPLES= stream without BCCD) gives none.
$(DATASET)/train.groups: $(DATASET)/samples.train.pam
	{ grep -a '^#group: bccd/' '$<' || true; } | sed 's/^#group: //' | \
	    sort -u >'$@.tmp'
	mv '$@.tmp' '$@'
$(DATASET)/smears.pam: $(DATASET)/train.groups $(SRCDIR)/pipelines/smears.sh \
    $(DS_BLOCKS) bin/label-smear $(DATASET)/.smears.args
	if [ -s '$<' ]; then \
	    PATH='$(CURDIR)/bin':"$$PATH" sh $(SRCDIR)/pipelines/smears.sh \
	    -g '$<' $(DS_ARGS_smears) >'$@.tmp'; else : >'$@.tmp'; fi
	mv '$@.tmp' '$@'

# One command makes a split's tiles and records (a grouped pattern rule);
# the records are renamed into place before the tiles.  The training
# split also cuts tiles from the real smears (DS_REAL_train).
DS_REAL_train := $(DATASET)/smears.pam
$(DATASET)/train.pam: $(DATASET)/smears.pam
$(DATASET)/%.pam $(DATASET)/%.jsonl: $(DATASET)/bg.%.pam \
    $(DATASET)/samples.%.pam $(DATASET)/.tiles.%.args bin/compose-tile
	cat '$(DATASET)/bg.$*.pam' $(DS_REAL_$*) | \
	    bin/compose-tile $(call ds_tile_args,$*) -r '$(DATASET)/$*.jsonl' \
	    - '$(DATASET)/samples.$*.pam' >'$(DATASET)/$*.pam.tmp'
	mv '$(DATASET)/$*.pam.tmp' '$(DATASET)/$*.pam'

$(DATASET)/stats.txt: $(DS_TILES) $(DS_RECORDS) bin/tile-stats
	bin/tile-stats $(DS_TILES) >'$@.tmp'
	mv '$@.tmp' '$@'

$(DATASET)/contact-sheet.png: $(DATASET)/train.pam \
    $(SRCDIR)/pipelines/contact-sheet.sh bin/colorize
	PATH='$(CURDIR)/bin':"$$PATH" sh $(SRCDIR)/pipelines/contact-sheet.sh \
	    '$<' 16 '$@'
