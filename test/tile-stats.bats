#!/usr/bin/env bats
# This script tests: tile-stats
# Also requires: make-background, compose-tile, perl (synthetic samples)
load test_helper

setup() {
	MK="$FIXTURES/compose-tile/mksamples.pl"
	cd "$BATS_TEST_TMPDIR"
	perl "$MK" Basophil:3 Thrombocyte:3 "Healthy RBC:6" \
	    "Infected RBC:6" >samples.pam
	make-background -n 2 -W 240 -H 240 samples.pam >bg.pam
	mkdir ds
	compose-tile -n 12 -r ds/train.jsonl bg.pam samples.pam >ds/train.pam
	compose-tile -n 4 -s 2 bg.pam samples.pam >ds/val.pam
}

# bad_record RECORD MESSAGE: tile-stats on bad.pam, whose records file
# holds the one line RECORD, fails cleanly with MESSAGE.
bad_record() {
	echo "$1" >bad.jsonl
	run --separate-stderr tile-stats bad.pam
	assert_fails_cleanly "tile-stats: bad.jsonl: line 1: $2"
}

@test "tile-stats: a table of pixel shares and object counts per split" {
	run --separate-stderr tile-stats ds/train.pam ds/val.pam
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *train*val* ]]
	[[ "${lines[1]}" == "class "*"pixel%"*"objects"* ]]
	n=$(perl -ne '$n += () = /"class": "Basophil"/g; END { print $n + 0 }' \
	    ds/train.jsonl)
	[[ "$output" == *"Basophil "*" $n "* ]]
	# val has no records: its object column is "-"
	[ "$(echo "$output" | awk '$1 == "Thrombocyte" { print $5 }')" = - ]
	[ "$(echo "$output" | awk '$1 == "tiles" { print $2, $3 }')" = "12 4" ]
	# the shares of each split add up to 100%
	echo "$output" | awk 'NR > 2 && $1 != "tiles" { s += $(NF - 3) }
	    END { exit !(s > 99.9 && s < 100.1) }'
}

@test "tile-stats: --yaml" {
	run --separate-stderr tile-stats --yaml ds/train.pam
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "splits:" ]
	[ "${lines[1]}" = '  "train":' ]
	[ "${lines[2]}" = "    tiles: 12" ]
	[[ "$output" == *'"Basophil": {pixel_share: 0.'*', objects: '* ]]
}

@test "tile-stats: records are read as JSON, whatever their spacing and key order" {
	cp ds/train.pam other.pam
	{
		printf '%s\n' '{"objects":[{"class":"Basophil","pixels":1},{"bbox":[0,0,1,1],"class":"Thrombocyte"}],"tile":0}'
		printf '%s\n' '{ "tile" : 1 , "objects" : [ { "sample" : "a/b" , "class" : "Baso\u0070hil" } ] }'
		printf '%s\n' '{"tile": 2, "note": {"class": "Basophil"}, "objects": []}'
		for i in 3 4 5 6 7 8 9 10 11; do
			printf '{"objects": [], "tile": %d}\n' "$i"
		done
	} >other.jsonl
	run --separate-stderr tile-stats other.pam
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(echo "$output" | awk '$1 == "Basophil" { print $3 }')" = 2 ]
	[ "$(echo "$output" | awk '$1 == "Thrombocyte" { print $3 }')" = 1 ]
}

@test "tile-stats: bad input fails cleanly" {
	: >empty.pam
	run --separate-stderr tile-stats empty.pam
	assert_fails_cleanly "empty stream"
	run --separate-stderr tile-stats samples.pam
	assert_fails_cleanly "expected RGB_LABEL"
	cp ds/train.pam bad.pam
	bad_record '{"tile": 0, "objects": [{"class": "Erythroblast"}]}' \
	    "unknown class 'Erythroblast'"
	bad_record '{"tile": 0, "objects": [{"class": "Basophil"},]}' \
	    "unexpected token near ']'"
	bad_record '{"tile": 0, "objects": [{"kind": "Basophil"}]}' \
	    "object 1 has no 'class' string"
	bad_record '{"tile": 0}' "expected an object with an 'objects' array"
	run --separate-stderr tile-stats
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"usage: tile-stats"* ]]
	run --separate-stderr tile-stats -q ds/train.pam
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "tile-stats: partial labels get rows of their own" {
	L=$FIXTURES/label-smear
	awk -v w=160 -v h=120 -f "$L/mkphoto.awk" "$L/photo.discs" >photo.ppm
	label-smear -q -l "$L/photo.list" photo.ppm >real.pam
	run --separate-stderr tile-stats real.pam
	[ "$status" -eq 0 ]
	share=$(echo "$output" | awk '$1 " " $2 == "White cell" { print $3 }')
	awk -v s="$share" 'BEGIN { exit !(s > 1 && s < 20) }'
	# no Platelet row: the fixture's platelet has no box
	[ "$(echo "$output" | awk '$1 == "Platelet" && $2 ~ /^[0-9]/' | wc -l)" -eq 0 ]
	[ "$(echo "$output" | awk '$1 == "Platelet" && $2 == "clump"' | wc -l)" -eq 1 ]
	run tile-stats -y real.pam
	[[ "$output" == *'"White cell": {pixel_share: '*', partial: true}'* ]]
}
