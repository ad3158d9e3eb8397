#!/usr/bin/env bats
# This script tests: the HTML report of smear-segment (index.html), in a
#   real browser
# Also requires: chromium (headless; skipped with a message when absent),
#   netpbm (jpegtopnm, pamcut, pnmtojpeg, pamtopng)

load test_helper

BCCD=$TOP/share/eval/bccd/JPEGImages

# The headless browser, or nothing.
browser() {
	local b
	for b in chromium chromium-browser google-chrome; do
		command -v "$b" >/dev/null 2>&1 && { echo "$b"; return 0; }
	done
	return 1
}

# The DOM of the page $1 after it has loaded and its script has run.
dump_dom() {
	timeout 120 "$(browser)" --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$BATS_TEST_TMPDIR/profile" --virtual-time-budget=10000 \
	    --dump-dom "file://$1" 2>/dev/null
}

setup_file() {
	d=$BATS_FILE_TMPDIR/in
	mkdir -p "$d"
	jpegtopnm "$BCCD/BloodImage_00005.jpg" 2>/dev/null | pamcut 0 0 400 300 | pnmtojpeg >"$d/a smear.jpg"
	jpegtopnm "$BCCD/BloodImage_00136.jpg" 2>/dev/null | pamcut 100 80 400 300 | pamtopng >"$d/b&c.png"
	echo "not an image" >"$d/broken.png"
	smear-segment -q -s 0.36 -o "$BATS_FILE_TMPDIR/report" "$d" 2>/dev/null || [ $? -eq 2 ]
}

R() { echo "$BATS_FILE_TMPDIR/report"; }

@test "report: every file it links is there, and nothing outside the folder" {
	cd "$(R)"
	grep -o -e 'src="[^"]*"' -e 'href="[^"]*"' index.html | sed 's/^[a-z]*="//; s/"$//' >"$BATS_TEST_TMPDIR/links"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/links")" -ge 13 ]
	while read -r l; do
		case $l in *:*|/*) echo "not a relative link: $l"; false ;; esac
		f=$(printf '%b' "$(echo "$l" | sed 's/%\([0-9A-F][0-9A-F]\)/\\x\1/g')")
		[ -e "$f" ] || { echo "missing: $l"; false; }
	done <"$BATS_TEST_TMPDIR/links"
	grep -q '<b>a smear</b>' index.html
	grep -q '<b>b&amp;c</b>' index.html
	grep -q 'src="thumbs/a%20smear.png"' index.html
}

@test "report: loads in headless Chromium with every picture" {
	browser >/dev/null || skip "no chromium (make deps-test installs it)"
	run dump_dom "$(R)/index.html"
	[ "$status" -eq 0 ]
	# the legend and two thumbnails, all loaded (the page's script counts
	# them when the browser has decoded them)
	[[ "$output" == *'<body data-images-done="yes" data-images-loaded="3" data-images-failed="0">'* ]]
	[[ "$output" == *"<h1>2 smears segmented</h1>"* ]]
	[[ "$output" == *"1 image failed"* ]]
	[[ "$output" == *"White-cell differential: "* ]]
	[[ "$output" == *"parasitemia"* ]]
	[[ "$output" == *"default.safetensors"* ]]
	[[ "$output" == *'<td>0.3600<br>(--scale)</td>'* ]]
}

@test "report: a picture that is missing is seen by the browser, and shown" {
	browser >/dev/null || skip "no chromium (make deps-test installs it)"
	cp -r "$(R)" "$BATS_TEST_TMPDIR/r"
	rm "$BATS_TEST_TMPDIR/r/thumbs/b&c.png"
	run dump_dom "$BATS_TEST_TMPDIR/r/index.html"
	[ "$status" -eq 0 ]
	[[ "$output" == *'data-images-done="yes" data-images-loaded="2" data-images-failed="1"'* ]]
	[[ "$output" == *"1 of 3 pictures did not load"* ]]
}
