# model.mk - remake the shipped default model.
#
#   make default-model    dataset (SEED=1, default size, REAL_SHARE=0.2,
#                         WHOLE_WBC=1)
#                         -> unet-train with share/models/default.yaml,
#                         starting from the weights of MODEL_INIT ->
#                         $(MODEL_RUN)/, then copies the best model (F16)
#                         and the log into share/models/
#
# The recipe fine-tunes the previous default model (share/models/v2: v1,
# made from scratch by 56 epochs, fine-tuned 4 epochs on the stain-
# normalised synthetic tiles; each file's metadata holds its history) on
# the current dataset, a fifth of whose training tiles are real BCCD
# fields: the config's epochs on one cosine schedule.  About 20 minutes
# to an hour on a 2-core CPU (see share/models/README.md);
# --resume carries a run across restarts: run the same command again and
# it continues from $(MODEL_RUN)/checkpoint.safetensors.

MODEL_RUN     ?= runs/default
MODEL_THREADS ?= 2
MODEL_INIT    ?= $(SRCDIR)/share/models/v2.safetensors

MODEL_TRAIN = bin/unet-train -c $(SRCDIR)/share/models/default.yaml \
	    -t $(DATASET)/train.pam -v $(DATASET)/val.pam \
	    -o '$(MODEL_RUN)/model.safetensors' --half -C '$(MODEL_RUN)' \
	    -j $(MODEL_THREADS) \
	    --meta 'dataset=make dataset SEED=$(SEED) SIZE=$(SIZE) WHOLE_WBC=$(WHOLE_WBC)$(if $(DS_TRAIN_BG_SET), $(DS_TRAIN_BG_SET))' \
	    --meta 'dataset.tiles=$(DS_TILES_train) train, $(DS_TILES_val) val, $(DS_TILES_test) test' \
	    --meta 'dataset.real_share=$(REAL_SHARE)' \
	    --meta 'init=share/models/v2.safetensors'

.PHONY: default-model

default-model: dataset bin/unet-train
	@mkdir -p '$(MODEL_RUN)'
	$(MODEL_TRAIN) $(if $(wildcard $(MODEL_RUN)/checkpoint.safetensors),-r '$(MODEL_RUN)',-i '$(MODEL_INIT)')
	cp '$(MODEL_RUN)/model.safetensors' $(SRCDIR)/share/models/default.safetensors
	cp '$(MODEL_RUN)/train.jsonl' $(SRCDIR)/share/models/default-train.jsonl
