#!/usr/bin/env bats
# This script tests: pipelines/dataset.mk (make dataset, dataset-stats,
#   contact-sheet) and pipelines/contact-sheet.sh
# Also requires: make, split-dataset, make-background, compose-tile,
#   tile-stats, colorize, perl with JSON::PP, Netpbm (pamchannel, pamcat,
#   pamtopng)
load test_helper

# One tiny dataset from synthetic samples, shared by the tests.
setup_file() {
	MK="$FIXTURES/compose-tile/mksamples.pl"
	cd "$BATS_FILE_TMPDIR"
	perl "$MK" -g 12 Eosinophil:12 Basophil:12 Neutrophil:12 \
	    Lymphocyte:12 Monocyte:12 Thrombocyte:12 "Platelet clump:12" \
	    "Healthy RBC:36" "Infected RBC:36" >samples.pam
	make -C "$TOP" --no-print-directory dataset SIZE=tiny \
	    DATASET="$BATS_FILE_TMPDIR/a" SAMPLES="$BATS_FILE_TMPDIR/samples.pam" \
	    >build-a.log 2>&1
}

ds() {
	make -C "$TOP" --no-print-directory SIZE=tiny \
	    SAMPLES="$BATS_FILE_TMPDIR/samples.pam" "$@"
}

@test "dataset: three splits of tiles with records that agree with the labels" {
	cd "$BATS_FILE_TMPDIR/a"
	for s in train val test; do
		[ -s $s.pam ] && [ -s $s.jsonl ]
		run perl "$FIXTURES/compose-tile/checktiles.pl" \
		    "$SMEARSEG_SHARE/classes.yaml" $s.pam $s.jsonl
		[ "$status" -eq 0 ]
	done
	# every class in train
	run perl "$FIXTURES/compose-tile/checktiles.pl" \
	    "$SMEARSEG_SHARE/classes.yaml" train.pam train.jsonl
	[[ "$output" == "tiles 36 objects "*" classes 0,1,2,3,4,5,6,7,8,9" ]]
	pamchannel -tupletype GRAYSCALE 3 <val.pam | pamfile | grep -q GRAYSCALE
}

@test "dataset: no sample and no group is shared between splits" {
	cd "$BATS_FILE_TMPDIR/a"
	META="$FIXTURES/split-dataset/pammeta.pl"
	for s in train val test; do
		perl "$META" id samples.$s.pam | sort >id.$s
		perl "$META" group samples.$s.pam | sort -u >group.$s
		perl -MJSON::PP -ne 'print "$_->{sample}\n" for
		    @{decode_json($_)->{objects}}' $s.jsonl | sort -u >used.$s
		[ -z "$(comm -23 used.$s id.$s)" ]
	done
	for p in "train val" "train test" "val test"; do
		set -- $p
		[ -z "$(comm -12 id.$1 id.$2)" ]
		[ -z "$(comm -12 group.$1 group.$2)" ]
	done
}

@test "dataset: the same seed gives the same bytes, also with make -j2" {
	ds -j2 dataset DATASET="$BATS_TEST_TMPDIR/b" >/dev/null 2>&1
	for f in samples.train.pam bg.val.pam train.pam train.jsonl val.pam \
	    val.jsonl test.pam test.jsonl stats.txt; do
		cmp "$BATS_FILE_TMPDIR/a/$f" "$BATS_TEST_TMPDIR/b/$f"
	done
}

@test "dataset: only the stages that changed are rebuilt" {
	cp -a "$BATS_FILE_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
	run ds dataset DATASET="$BATS_TEST_TMPDIR/c"
	[ "$status" -eq 0 ]
	! printf '%s\n' "$output" | grep -q '^bin/\|^mv \|^cp '
	run ds dataset DATASET="$BATS_TEST_TMPDIR/c" SEED=2
	[ "$status" -eq 0 ]
	[[ "$output" == *"split-dataset -s 2"* ]]
	[[ "$output" == *"compose-tile -s 20 -n 36"* ]]
	[[ "$output" != *"samples.pam.tmp"* ]]
	! cmp -s "$BATS_FILE_TMPDIR/a/train.pam" "$BATS_TEST_TMPDIR/c/train.pam"
}

@test "dataset: CELL_SPREAD, RBC_FEATHER, INFECTED_MIX, BLUE_SHARE, REDDER_SHARE, SPECK_MARGIN, RBC_COVERAGE and OWN_SHARE reach the training backgrounds alone" {
	cp -a "$BATS_FILE_TMPDIR/a" "$BATS_TEST_TMPDIR/e"
	run ds dataset DATASET="$BATS_TEST_TMPDIR/e" CELL_SPREAD=0.05 \
	    RBC_FEATHER=1 INFECTED_MIX=0.5-1 BLUE_SHARE=0.3 REDDER_SHARE=0.2 \
	    SPECK_MARGIN=2 RBC_COVERAGE=0.2-0.5 OWN_SHARE=0.2
	[ "$status" -eq 0 ]
	[[ "$output" == *"make-background "*" -e 0.05 -f 1 -m 0.5-1 -b 0.3 -R 0.2 -p 2 -c 0.2-0.5 -U 0.2 "*"samples.train.pam"* ]]
	[[ "$output" != *"bg.val.pam.tmp"* && "$output" != *"bg.test.pam.tmp"* ]]
	for f in bg.val.pam val.pam test.pam; do
		cmp "$BATS_FILE_TMPDIR/a/$f" "$BATS_TEST_TMPDIR/e/$f"
	done
	! cmp -s "$BATS_FILE_TMPDIR/a/bg.train.pam" "$BATS_TEST_TMPDIR/e/bg.train.pam"
	# back to the defaults: the same bytes as before; the training
	# backgrounds' default stains are 0.3 bluer and 0.3 redder, and
	# their red-cell coverage is drawn in 0.08-0.25
	run ds dataset DATASET="$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[[ "$output" == *"make-background "*" -b 0.3 -R 0.3 -c 0.08-0.25 "*"samples.train.pam"* ]]
	cmp "$BATS_FILE_TMPDIR/a/bg.train.pam" "$BATS_TEST_TMPDIR/e/bg.train.pam"
}

@test "dataset: dataset-stats and contact-sheet" {
	run ds dataset-stats DATASET="$BATS_FILE_TMPDIR/a"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Platelet clump"* ]]
	[[ "$output" == *"tiles "*" 36 "*" 6 "*" 6"* ]]
	run ds contact-sheet DATASET="$BATS_FILE_TMPDIR/a"
	[ "$status" -eq 0 ]
	[ "$(head -c 4 "$BATS_FILE_TMPDIR/a/contact-sheet.png" | tail -c 3)" = PNG ]
}

@test "dataset: a bad SIZE is refused" {
	run ds dataset SIZE=huge DATASET="$BATS_TEST_TMPDIR/d"
	[ "$status" -ne 0 ]
	[[ "$output" == *"SIZE must be default, reference, demo or tiny, not 'huge'"* ]]
}
