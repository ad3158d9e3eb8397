# model.mk - retrain the shipped default model from scratch.
#
#   make default-model    dataset (SEED=1, default size) -> unet-train with
#                         share/models/default.yaml -> $(MODEL_RUN)/, then
#                         copies the best model (F16) and the log into
#                         share/models/
#
# Hours on a 2-core CPU (see share/models/README.md); --resume carries a
# run across restarts: run the same command again and it continues from
# $(MODEL_RUN)/checkpoint.safetensors.

MODEL_RUN     ?= runs/default
MODEL_THREADS ?= 2
# the recipe: the config's epochs (32) on one cosine schedule, then a warm
# restart that continues the run to MODEL_EPOCHS with the cosine taken
# over all of them (the learning rate jumps back to 4e-4, then decays)
MODEL_EPOCHS  ?= 56

MODEL_TRAIN = bin/unet-train -c $(SRCDIR)/share/models/default.yaml \
	    -t $(DATASET)/train.pam -v $(DATASET)/val.pam \
	    -o '$(MODEL_RUN)/model.safetensors' --half -C '$(MODEL_RUN)' \
	    -j $(MODEL_THREADS) \
	    --meta 'dataset=make dataset SEED=$(SEED) SIZE=$(SIZE)' \
	    --meta 'dataset.tiles=$(DS_TILES_train) train, $(DS_TILES_val) val, $(DS_TILES_test) test'

.PHONY: default-model

default-model: dataset bin/unet-train
	@mkdir -p '$(MODEL_RUN)'
	$(MODEL_TRAIN) $(if $(wildcard $(MODEL_RUN)/checkpoint.safetensors),-r '$(MODEL_RUN)')
	$(MODEL_TRAIN) -r '$(MODEL_RUN)' -e $(MODEL_EPOCHS)
	cp '$(MODEL_RUN)/model.safetensors' $(SRCDIR)/share/models/default.safetensors
	cp '$(MODEL_RUN)/train.jsonl' $(SRCDIR)/share/models/default-train.jsonl
