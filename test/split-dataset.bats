#!/usr/bin/env bats
# This script tests: split-dataset
# Also requires: perl (the synthetic samples of test/fixtures/compose-tile)
load test_helper

setup() {
	MK="$FIXTURES/compose-tile/mksamples.pl"
	META="$FIXTURES/split-dataset/pammeta.pl"
	cd "$BATS_TEST_TMPDIR"
	perl "$MK" -g 10 Eosinophil:20 Basophil:20 "Healthy RBC:40" \
	    "Infected RBC:30" >all.pam
}

@test "split-dataset: three splits that together hold every sample once" {
	run split-dataset -o s all.pam
	[ "$status" -eq 0 ]
	perl "$META" id all.pam | sort >want
	perl "$META" id s.train.pam s.val.pam s.test.pam | sort >got
	cmp want got
	[ "$(perl "$META" id s.train.pam | wc -l)" -gt \
	    "$(perl "$META" id s.val.pam | wc -l)" ]
	[ "$(perl "$META" split s.val.pam | sort -u)" = val ]
}

@test "split-dataset: no group appears in two splits" {
	split-dataset -s 3 -o s all.pam
	for a in train val test; do
		perl "$META" group s.$a.pam | sort -u >g.$a
	done
	[ -s g.val ] && [ -s g.test ]
	[ -z "$(comm -12 g.train g.val)" ]
	[ -z "$(comm -12 g.train g.test)" ]
	[ -z "$(comm -12 g.val g.test)" ]
}

@test "split-dataset: the same seed gives the same bytes, whatever the input order" {
	split-dataset -s 7 -o a all.pam
	split-dataset -s 7 -o b all.pam
	for s in train val test; do cmp a.$s.pam b.$s.pam; done
	perl "$MK" -g 10 "Infected RBC:30" "Healthy RBC:40" Basophil:20 \
	    Eosinophil:20 >rev.pam
	split-dataset -s 7 -o c rev.pam
	for s in train val test; do
		[ "$(perl "$META" id a.$s.pam | sort)" = \
		    "$(perl "$META" id c.$s.pam | sort)" ]
	done
	split-dataset -s 8 -o d all.pam
	! cmp -s a.train.pam d.train.pam
}

@test "split-dataset: a class with one group stays in train, with a warning" {
	perl "$MK" -g 1 -p solo Monocyte:3 >solo.pam
	cat all.pam solo.pam >mix2.pam
	run --separate-stderr split-dataset -o t mix2.pam
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"class Monocyte has too few groups: val and test get none"* ]]
	[ "$(perl "$META" class t.train.pam | grep -c Monocyte)" -eq 3 ]
}

@test "split-dataset: -r sets the proportions" {
	split-dataset -r 50/25/25 -o s all.pam
	n=$(perl "$META" id s.train.pam | wc -l)
	[ "$n" -ge 40 ] && [ "$n" -le 70 ]
	run --separate-stderr split-dataset -r 100/0/0 -o t all.pam
	[ "$status" -eq 0 ]
	[ "$(perl "$META" id t.train.pam | wc -l)" -eq 110 ]
	[ ! -s t.val.pam ]
}

@test "split-dataset: a sample with an empty mask is rejected and counted" {
	perl "$MK" -p bad Eosinophil:2:empty >bad.pam
	cat all.pam bad.pam >mix.pam
	run --separate-stderr split-dataset -o s mix.pam
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"rejected 2 samples with no cell pixel"* ]]
	[ "$(perl "$META" id s.train.pam s.val.pam s.test.pam | wc -l)" -eq 110 ]
}

@test "split-dataset: reads standard input" {
	split-dataset -o a all.pam
	split-dataset -o b <all.pam
	cmp a.train.pam b.train.pam
}

@test "split-dataset: bad input fails cleanly and writes nothing" {
	: >empty.pam
	run --separate-stderr split-dataset -o s empty.pam
	assert_fails_cleanly "empty stream"
	[ ! -e s.train.pam ]
	perl "$MK" Erythroblast:1 >unknown.pam
	run --separate-stderr split-dataset -o s unknown.pam
	assert_fails_cleanly "'Erythroblast' is not a cell class"
	perl "$MK" Basophil:1:noclass >noclass.pam
	run --separate-stderr split-dataset -o s noclass.pam
	assert_fails_cleanly "no 'class' in its metadata"
	perl "$MK" Basophil:1:noid >noid.pam
	run --separate-stderr split-dataset -o s noid.pam
	assert_fails_cleanly "no 'id' in its metadata"
	cat all.pam all.pam >twice.pam
	run --separate-stderr split-dataset -o s twice.pam
	assert_fails_cleanly "have the same id"
	pamchannel -tupletype RGB 0 1 2 <all.pam >rgb.pam
	run --separate-stderr split-dataset -o s rgb.pam
	assert_fails_cleanly "expected RGB_ALPHA"
	[ ! -e s.train.pam ] && [ ! -e s.val.pam ]
	[ -z "$(ls -A | grep '^\.s\.')" ]
}

@test "split-dataset: misuse prints the usage" {
	run --separate-stderr split-dataset all.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"output prefix"* ]]
	[[ "$stderr" == *"usage: split-dataset"* ]]
	run --separate-stderr split-dataset -x -o s all.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unknown option '-x'"* ]]
	run --separate-stderr split-dataset -r 80/20 -o s all.pam
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid ratio '80/20'"* ]]
	run split-dataset --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}
