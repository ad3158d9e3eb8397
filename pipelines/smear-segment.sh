#!/bin/sh
# smear-segment - segment smear photos end to end: decode, find the scale,
# segment at the model's scale, and write the class maps, colour maps,
# overlays and counts at each photo's own resolution, a summary table and
# an HTML report.  See smear-segment(1).
#
# This file is pipelines/smear-segment.sh; make turns it into
# bin/smear-segment (and make install into PREFIX/bin/smear-segment),
# with @PREFIX@ replaced by the install prefix.
#
# Every step is a smearseg filter or a Netpbm converter.  Each image is
# made in a private temporary directory inside OUTDIR and its files are
# moved into place only when all of them are made, so that an image that
# fails leaves nothing behind and the others go on.  Exit status: 0 when
# every image was segmented, 1 on a usage error or when no image was
# found (nothing is written then), 2 when one or more images failed.
set -u

prog=smear-segment
version=0.1.0
usage="usage: $prog [-m model]... [-r px | -s scale] [-j threads] [-t] [-V] [-q]
       -o outdir file|dir ..."

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }
usage_error() { say "$*"; printf '%s\n' "$usage" >&2; exit 1; }

help() {
	cat <<EOF
$usage

Segment smear photos (PNG, JPEG, BMP, TIFF or Netpbm; every such file of
a directory) with a U-Net: each photo is brought to the model's pixel
scale, segmented, and its class map scaled back to the photo's own size.
Writes, per photo NAME, NAME.pgm (class map), NAME.classes.png (class
colours), NAME.overlay.png (colours over the photo), NAME.counts.yaml
(cell-count), and for all photos summary.tsv and index.html (a report
that opens from disk).

  -o, --output DIR      where the results go (made if missing)
  -m, --model FILE      the model (default: the shipped
                        models/default.safetensors); several -m: an
                        ensemble, their probabilities averaged (each
                        model one more pass; the first sets the scale)
  -r, --rbc-diameter PX the red cells are PX pixels across in the photos
  -s, --scale F         the factor to the model's scale (pamscale F)
                        (default: measured per photo by smear-scale)
  -j, --threads N       CPU threads (default: all processors)
  -t, --tta             unet-infer --tta: 8 symmetries per window
  -V, --no-vote         keep the network's pixel classes: no cell-vote
                        (which gives each white cell, platelet and red
                        cell one class, and makes red-cell specks
                        background)
  -q, --quiet           no progress on standard error
  -h, --help            this help
      --version         print the version
EOF
	exit 0
}

# --- where things are --------------------------------------------------------

# The directory of this script: its sibling programs come first on PATH,
# so that bin/smear-segment in a checkout runs bin/unet-infer.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
PATH=$here:$PATH
export PATH

# The share directory, found as lib/paths.c finds it.
find_share() {
	if [ -n "${SMEARSEG_SHARE:-}" ]; then
		[ -f "$SMEARSEG_SHARE/classes.yaml" ] ||
		    die "SMEARSEG_SHARE=$SMEARSEG_SHARE: no classes.yaml there"
		echo "$SMEARSEG_SHARE"
		return
	fi
	for d in "$here/../share/smearseg" "$here/../share" "@PREFIX@/share/smearseg"; do
		if [ -f "$d/classes.yaml" ]; then
			(cd "$d" && pwd)
			return
		fi
	done
	die "cannot find the share directory (classes.yaml); set SMEARSEG_SHARE"
}

# --- options -------------------------------------------------------------------

model= models= outdir= rbcd= scale= threads= tta= quiet= vote=1
# add_model FILE: one more -m (MODELS newest first; with_models puts them
# back in order)
add_model() {
	case $1 in
	*'
'*) usage_error "a model file name with a newline" ;;
	esac
	[ -n "$model" ] || model=$1
	models="$1
$models"
}
need_arg() { [ $# -ge 2 ] || usage_error "option '$1' needs an argument"; }
while [ $# -gt 0 ]; do
	case $1 in
	-o|--output) need_arg "$@"; outdir=$2; shift 2 ;;
	--output=*) outdir=${1#*=}; shift ;;
	-m|--model) need_arg "$@"; add_model "$2"; shift 2 ;;
	--model=*) add_model "${1#*=}"; shift ;;
	-r|--rbc-diameter) need_arg "$@"; rbcd=$2; shift 2 ;;
	--rbc-diameter=*) rbcd=${1#*=}; shift ;;
	-s|--scale) need_arg "$@"; scale=$2; shift 2 ;;
	--scale=*) scale=${1#*=}; shift ;;
	-j|--threads) need_arg "$@"; threads=$2; shift 2 ;;
	--threads=*) threads=${1#*=}; shift ;;
	-t|--tta) tta=--tta; shift ;;
	-V|--no-vote) vote=; shift ;;
	-q|--quiet) quiet=1; shift ;;
	-h|--help) help ;;
	--version) echo "$prog (smearseg) $version"; exit 0 ;;
	--) shift; break ;;
	-?*) usage_error "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ -n "$outdir" ] || usage_error "-o OUTDIR is required"
[ $# -gt 0 ] || usage_error "no images named (files or directories)"
[ -n "$rbcd" ] && [ -n "$scale" ] &&
    usage_error "--scale and --rbc-diameter exclude each other"
is_number() { awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/ && v + 0 > 0) }'; }
[ -z "$scale" ] || is_number "$scale" ||
    usage_error "invalid scale '$scale' (expected a number above 0)"
[ -z "$rbcd" ] || is_number "$rbcd" ||
    usage_error "invalid red-cell diameter '$rbcd' (expected pixels above 0)"
if [ -n "$threads" ]; then
	case $threads in
	''|*[!0-9]*) usage_error "invalid threads '$threads' (expected 1..1024)" ;;
	esac
	[ "$threads" -ge 1 ] && [ "$threads" -le 1024 ] ||
	    usage_error "invalid threads '$threads' (expected 1..1024)"
else
	threads=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
fi

share=$(find_share) || exit 1
[ -n "$model" ] || add_model "$share/models/default.safetensors"
set -f
IFS='
'
for m in $models; do
	[ -d "$m" ] && die "$m: is a directory, expected a model file"
	[ -r "$m" ] || die "$m: cannot read the model"
done
unset IFS
set +f
# with_models CMD ARGS...: CMD -m MODEL... ARGS
with_models() {
	_cmd=$1
	shift
	set -f
	IFS='
'
	for _m in $models; do set -- -m "$_m" "$@"; done
	unset IFS
	set +f
	"$_cmd" "$@"
}
# the models for the report, in order, comma-separated
model_names=$(printf '%s\n' "$models" | awk 'NF { a[n++] = $0 }
    END { for (i = n - 1; i >= 0; i--) printf "%s%s", a[i], i ? ", " : "" }')
nmodels=$(printf '%s\n' "$models" | grep -c .)
[ -e "$outdir" ] && [ ! -d "$outdir" ] && die "$outdir: exists and is not a directory"

# --- the images ----------------------------------------------------------------

# The files to segment, one per line: each file named, and the image files
# (by their extension) directly inside each directory named, sorted.
list=$(mktemp) || exit 1
trap 'rm -f "$list"' EXIT
for a in "$@"; do
	if [ -d "$a" ]; then
		n=$(find "$a" -mindepth 1 -maxdepth 1 -type f | grep -ciE \
		    '\.(png|jpe?g|bmp|tiff?|p[bgpan]m|pnm)$')
		[ "$n" -gt 0 ] || die "$a: no image files (PNG, JPEG, BMP, TIFF, Netpbm) in this directory"
		find "$a" -mindepth 1 -maxdepth 1 -type f | grep -iE \
		    '\.(png|jpe?g|bmp|tiff?|p[bgpan]m|pnm)$' | LC_ALL=C sort >>"$list"
	elif [ -e "$a" ]; then
		printf '%s\n' "$a" >>"$list"
	else
		die "$a: no such file or directory"
	fi
done
grep -q . "$list" || die "no images to segment"
if grep -q "$(printf '\t')" "$list"; then
	die "$(grep "$(printf '\t')" "$list" | head -1): a file name with a tab is not supported"
fi
total=$(wc -l <"$list" | tr -d ' ')

mkdir -p "$outdir/thumbs" || die "$outdir: cannot make the directory"
work=$(mktemp -d "$outdir/.smear-segment.XXXXXX") || die "$outdir: cannot write there"
trap 'rm -rf "$work" "$list"' EXIT
trap 'exit 130' INT TERM

# The decoder of a file by its first bytes.
decoder() {
	case $(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n') in
	ffd8ff*) echo jpegtopnm ;;
	89504e47) echo pngtopam ;;
	424d*) echo bmptopnm ;;
	49492a00|4d4d002a) echo tifftopnm ;;
	503[1-7]*) echo pamtopnm ;;
	*) echo ;;
	esac
}

# NAME for a file: its base name without the extension, made unique in
# this run.
used=$work/names
: >"$used"
unique_name() {
	b=$(basename -- "$1")
	b=${b%.*}
	[ -n "$b" ] || b=image
	n=$b
	i=2
	while grep -qxF -- "$n" "$used"; do
		n=$b-$i
		i=$((i + 1))
	done
	printf '%s\n' "$n" >>"$used"
	printf '%s\n' "$n"
}

fmt_time() { awk -v s="$1" 'BEGIN { s = int(s + 0.5); printf "%d:%02d", s / 60, s % 60 }'; }

# The table every image adds a line to (the header comes from the first
# cell-count) and the per-image notes for the report.
rows=$work/rows.tsv
failed=$work/failed.tsv
: >"$rows"
: >"$failed"
header=

# Decode FILE into $work/img/orig.ppm (a fresh $work/img) and set W and
# H; returns non-zero with the reason in $work/why.
decode_one() {
	t=$work/img
	rm -rf "$t"
	mkdir -p "$t/out/thumbs"
	dec=$(decoder "$1")
	if [ -z "$dec" ]; then
		echo "not an image this reads (PNG, JPEG, BMP, TIFF or Netpbm)" >"$work/why"
		return 1
	fi
	if ! "$dec" "$1" 2>"$t/err" | ppmtoppm >"$t/orig.ppm" 2>>"$t/err" ||
	    ! pamfile "$t/orig.ppm" >/dev/null 2>&1; then
		echo "cannot decode it with $dec ($(grep -v '^ *$' "$t/err" | tail -1))" >"$work/why"
		return 1
	fi
	set -- $(pamfile -size "$t/orig.ppm")
	w=$1 h=$2
}

# Segment the decoded image $work/img/orig.ppm as NAME (FILE for the
# table) at the scale of its line SLINE of the scales table (see below).
# Leaves its files in $work/img/out and its summary line in $work/row;
# returns non-zero with the reason in $work/why.
segment_one() {
	f=$1 name=$2 sline=$3 t=$work/img
	s=$(printf '%s\n' "$sline" | cut -f7)
	printf '%s\n' "$sline" | cut -f10 >"$t/warn"
	pamscale "$s" "$t/orig.ppm" >"$t/small.ppm" 2>"$t/err" &&
	    with_models unet-infer -q -j "$threads" $tta "$t/small.ppm" \
	    >"$t/raw.pgm" 2>"$t/err" &&
	    if [ -n "$vote" ]; then
		cell-vote -q "$t/raw.pgm" >"$t/$name.pgm" 2>"$t/err"
	    else
		mv "$t/raw.pgm" "$t/$name.pgm"
	    fi &&
	    (cd "$t" && cell-count "$name.pgm" >out/"$name.counts.yaml" &&
	    cell-count --tsv "$name.pgm" >counts.tsv) 2>"$t/err" &&
	    pamscale -nomix -width "$w" -height "$h" "$t/$name.pgm" \
	    >"$t/out/$name.pgm" 2>"$t/err" &&
	    colorize "$t/out/$name.pgm" 2>"$t/err" | pamtopng \
	    >"$t/out/$name.classes.png" 2>>"$t/err" &&
	    colorize -o "$t/orig.ppm" "$t/out/$name.pgm" >"$t/overlay.ppm" \
	    2>"$t/err" &&
	    pamtopng "$t/overlay.ppm" >"$t/out/$name.overlay.png" 2>"$t/err" &&
	    pamscale -xyfit 320 240 "$t/overlay.ppm" 2>"$t/err" | pamtopng \
	    >"$t/out/thumbs/$name.png" 2>>"$t/err" || {
		echo "$(grep -v '^ *$' "$t/err" | tail -1)" >"$work/why"
		return 1
	}
	# a second check of the scale: the red cells as segmented
	awk -F'\t' -v md="$(printf '%s\n' "$sline" | cut -f9)" '
	    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	    { a = $col["rbc_area"]; from = $col["rbc_area_from"]
	      if (from == "median" && a > 0) {
	          d = 2 * sqrt(a / 3.14159265)
	          if (d / md > 1.3 || d / md < 0.7)
	              printf "the segmented red cells are %.0f px across at the model scale, not about %.0f: the scale looks wrong; give --scale or --rbc-diameter\n", d, md
	      } }' "$t/counts.tsv" >>"$t/warn"
	warn=$(grep -v '^-$' "$t/warn" | grep . | awk '{ printf "%s%s", (NR > 1 ? "; " : ""), $0 }')
	[ -n "$warn" ] || warn=-
	[ -n "$header" ] || header=$(head -1 "$t/counts.tsv")
	# name source width height scale scale_from rbc_diameter, the counts
	# (cell-count's columns from the third up to rbc_components), warning
	counts=$(awk -F'\t' 'NR == 1 { for (i = 3; i <= NF && $i != "rbc_components"; i++) n = i }
	    NR == 2 { s = $3; for (i = 4; i <= n; i++) s = s "\t" $i; print s }' "$t/counts.tsv")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$f" "$w" "$h" \
	    "$s" "$(printf '%s\n' "$sline" | cut -f8)" \
	    "$(printf '%s\n' "$sline" | cut -f6)" "$counts" "$warn" >"$work/row"
	return 0
}

# The HTML report, from SUMMARY (summary.tsv) and FAILED (file, reason)
# on standard output.  It links only files beside it, so it opens from disk
# with no server and no network.  A small script counts the images that
# loaded and shows (and records, in data- attributes of the body, for
# tests) any that did not.
report() {
	awk -F'\t' -v failed="$2" -v model="$model_names" -v nmodels="$nmodels" -v date="$(date '+%Y-%m-%d %H:%M')" \
	    -v version="$version" '
	function esc(s) {
		gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s)
		gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s)
		return s
	}
	# a file name as a relative URL: %-escape what a URL cannot hold
	function url(s,   o, i, c) {
		o = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			o = o (c ~ /[A-Za-z0-9._~\/-]/ ? c : sprintf("%%%02X", ord[c]))
		}
		return o
	}
	function diff(r,   s, k) {
		s = ""
		for (k = 1; k <= nw; k++)
			s = s sprintf("%s%s %s %%", k > 1 ? ", " : "", wname[k], $col[wname[k] "%"])
		return s
	}
	BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
	NR == 1 {
		hn = NF
		for (i = 1; i <= NF; i++) { h[i] = $i; col[$i] = i }
		# classes: the columns from rbc_diameter to wbc; white cells:
		# those with a NAME% column
		nc = 0
		for (i = col["rbc_diameter"] + 1; i < col["wbc"]; i++) cls[++nc] = h[i]
		nw = 0
		for (i = 1; i <= NF; i++) if (h[i] ~ /%$/) wname[++nw] = substr(h[i], 1, length(h[i]) - 1)
		next
	}
	$1 == "total" { for (i = 1; i <= NF; i++) tot[i] = $i; ntot = $2 + 0; next }
	{ n++; for (i = 1; i <= NF; i++) row[n, i] = $i }
	END {
		nf = 0
		while ((getline line < failed) > 0) { nf++; split(line, p, "\t"); ff[nf] = p[2]; fw[nf] = p[3] }
		print "<!DOCTYPE html>"
		print "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
		printf "<title>smearseg: %d smear%s segmented</title>\n", n, n == 1 ? "" : "s"
		print "<style>"
		print "body { font-family: sans-serif; margin: 1.5em; color: #222; }"
		print "table { border-collapse: collapse; margin: 0.5em 0 1.5em; }"
		print "th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; vertical-align: top; }"
		print "th { background: #eee; } td.l, th.l { text-align: left; }"
		print "img.thumb { display: block; max-width: 320px; }"
		print ".warn { color: #a40; } .bad { color: #c00; font-weight: bold; }"
		print "</style>\n</head>"
		print "<body data-images-done=\"no\" data-images-loaded=\"0\" data-images-failed=\"0\">"
		printf "<h1>%d smear%s segmented</h1>\n", n, n == 1 ? "" : "s"
		printf "<p>%s: <code>%s</code>.  Made by smear-segment (smearseg %s) on %s.", (nmodels > 1 ? "Models (an ensemble, their probabilities averaged)" : "Model"), esc(model), version, date
		if (nf) printf "  <span class=\"bad\">%d image%s failed</span> (below).", nf, nf == 1 ? "" : "s"
		print "</p>\n<p id=\"imgstatus\"></p>"

		print "<h2>Classes</h2>"
		print "<p><img src=\"legend.png\" alt=\"the class colours: index, colour and name of every class\"></p>"
		print "<p>Overlays blend the class colours over the smear; infected red cells are hatched (the smear shows through every other diagonal stripe), so that they are told from healthy ones without telling red from green.</p>"

		print "<h2>All smears</h2>\n<table>\n<tr>"
		for (k = 1; k <= nc; k++) printf "<th>%s</th>", esc(cls[k])
		print "<th>white cells</th><th>red cells</th><th>parasitemia</th></tr>\n<tr>"
		for (k = 1; k <= nc; k++) printf "<td>%s</td>", tot[col[cls[k]]]
		printf "<td>%s</td><td>%s</td><td>%s %%</td></tr>\n</table>\n", tot[col["wbc"]], tot[col["rbc"]], tot[col["parasitemia"]]
		printf "<p>White-cell differential: "
		for (k = 1; k <= nw; k++) printf "%s%s %s %%", (k > 1 ? ", " : ""), esc(wname[k]), tot[col[wname[k] "%"]]
		print ".</p>"
		print "<p>The counts come from the class maps at the model&#39;s scale (cell-count); the scale of each smear is the factor that brought it there.  Counts of real smears are a first estimate, not a result.</p>"

		print "<h2>Each smear</h2>\n<table>\n<tr><th class=\"l\">overlay</th><th class=\"l\">smear</th><th>scale</th>"
		for (k = 1; k <= nc; k++) printf "<th>%s</th>", esc(cls[k])
		print "<th>parasitemia</th><th class=\"l\">white-cell differential</th></tr>"
		for (r = 1; r <= n; r++) {
			for (i = 1; i <= hn; i++) $i = row[r, i]
			nm = $1
			printf "<tr><td class=\"l\"><a href=\"%s.overlay.png\"><img class=\"thumb\" src=\"thumbs/%s.png\" alt=\"overlay of %s\"></a></td>\n", url(nm), url(nm), esc(nm)
			printf "<td class=\"l\"><b>%s</b><br>%s<br>%s x %s px<br><a href=\"%s.overlay.png\">overlay</a> | <a href=\"%s.classes.png\">classes</a> | <a href=\"%s.pgm\">class map</a> | <a href=\"%s.counts.yaml\">counts</a>", esc(nm), esc($2), $3, $4, url(nm), url(nm), url(nm), url(nm)
			if ($NF != "-") printf "<br><span class=\"warn\">warning: %s</span>", esc($NF)
			how = $col["scale_from"] == "estimate" ? "estimated; red cells " $col["rbc_diameter"] " px" : \
			    $col["scale_from"] == "none" ? "not measured" : "--" $col["scale_from"]
			printf "</td>\n<td>%s<br>(%s)</td>", $col["scale"], how
			for (k = 1; k <= nc; k++) printf "<td>%s</td>", $col[cls[k]]
			printf "<td>%s %%</td><td class=\"l\">%s</td></tr>\n", $col["parasitemia"], ($col["wbc"] > 0 ? esc(diff(r)) : "no white cells")
		}
		print "</table>"
		if (nf) {
			print "<h2>Failed</h2>\n<ul>"
			for (k = 1; k <= nf; k++) printf "<li><b>%s</b>: %s</li>\n", esc(ff[k]), esc(fw[k])
			print "</ul>"
		}
		print "<p>Files: <a href=\"summary.tsv\">summary.tsv</a> (one line per smear and a total).</p>"
		print "<script>"
		print "(function () {"
		print "  var imgs = document.images, ok = 0, bad = 0, left = imgs.length, b = document.body;"
		print "  function show() {"
		print "    b.setAttribute(\"data-images-loaded\", ok);"
		print "    b.setAttribute(\"data-images-failed\", bad);"
		print "    if (left > 0) return;"
		print "    b.setAttribute(\"data-images-done\", \"yes\");"
		print "    if (bad > 0) {"
		print "      var s = document.getElementById(\"imgstatus\");"
		print "      s.className = \"bad\";"
		print "      s.textContent = bad + \" of \" + imgs.length + \" pictures did not load: keep this page beside its files.\";"
		print "    }"
		print "  }"
		print "  function one(img) {"
		print "    if (img.naturalWidth > 0) ok++; else bad++;"
		print "    left--; show();"
		print "  }"
		print "  for (var i = 0; i < imgs.length; i++) {"
		print "    var img = imgs[i];"
		print "    if (img.complete) one(img);"
		print "    else {"
		print "      img.addEventListener(\"load\", function () { one(this); });"
		print "      img.addEventListener(\"error\", function () { one(this); });"
		print "    }"
		print "  }"
		print "  show();"
		print "})();"
		print "</script>\n</body>\n</html>"
	}' "$1"
}

start=$(date +%s)

# First pass: decode every photo and measure its scale (smear-scale), into
# the scales table: index, name, file, width, height, rbc_diameter,
# scale, scale_from, model_diameter, warning.
scales=$work/scales.tsv
: >"$scales"
i=0
while IFS= read -r f; do
	i=$((i + 1))
	name=$(unique_name "$f")
	if decode_one "$f" &&
	    smear-scale -q --tsv -m "$model" ${scale:+-s "$scale"} \
	    ${rbcd:+-r "$rbcd"} "$work/img/orig.ppm" >"$work/img/scale.tsv" \
	    2>"$work/why"; then
		tail -1 "$work/img/scale.tsv" | cut -f5,8-11 |
		    awk -F'\t' -v OFS='\t' -v i="$i" -v n="$name" -v f="$f" \
		    -v w="$w" -v h="$h" '{ print i, n, f, w, h, $0 }' >>"$scales"
	else
		printf '%s\t%s\t%s\n' "$i" "$f" "$(head -1 "$work/why")" >>"$failed"
	fi
done <"$list"

# Photos of one size in one run mostly come from one camera: a photo whose
# red cells could not be measured takes the median scale of the measured
# photos of its size (scale_from "batch"), and one whose measure is more
# than a quarter away from theirs is warned about.
awk -F'\t' -v OFS='\t' '
    function median(k,   n, i, j, t, v) {
	n = split(list[k], v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    { line[NR] = $0; k = $4 "x" $5
      if ($8 == "estimate") { list[k] = list[k] " " $7; cnt[k]++ } }
    END {
	for (r = 1; r <= NR; r++) {
		$0 = line[r]; k = $4 "x" $5
		if (cnt[k] >= 2) {
			m = median(k)
			if ($8 == "none") {
				$7 = sprintf("%.4f", m); $8 = "batch"
				$10 = sprintf("too few red cells to measure: took the median scale of the %d other %s photos", cnt[k], k)
			} else if ($8 == "estimate" && cnt[k] >= 3 && ($7 / m > 1.25 || $7 / m < 0.8))
				$10 = ($10 == "-" ? "" : $10 "; ") sprintf("the scale differs from the median %.3g of the %d %s photos: give --scale if they share a camera", m, cnt[k], k)
		}
		print
	}
    }' "$scales" >"$scales.new" && mv "$scales.new" "$scales"
if [ -z "$quiet" ]; then
	say "measured the scale of $(wc -l <"$scales" | tr -d ' ') of $total images in $(fmt_time $(( $(date +%s) - start )))"
fi

# Second pass: segment them.
done_n=0
nfail=$(wc -l <"$failed" | tr -d ' ')
while IFS= read -r f; do
	done_n=$((done_n + 1))
	sline=$(awk -F'\t' -v i="$done_n" '$1 == i' "$scales")
	name=$(printf '%s\n' "$sline" | cut -f2)
	if [ -z "$sline" ]; then
		status="failed"
		warn=-
		say "$f: $(awk -F'\t' -v i="$done_n" '$1 == i { print $3 }' "$failed"); skipped"
	elif decode_one "$f" && segment_one "$f" "$name" "$sline"; then
		for x in "$work/img/out/"*.* "$work/img/out/thumbs/"*; do
			case $x in
			*/thumbs/*) mv -f "$x" "$outdir/thumbs/" ;;
			*) mv -f "$x" "$outdir/" ;;
			esac
		done
		cat "$work/row" >>"$rows"
		status=$(cut -f3-7 "$work/row" | awk -F'\t' '{
		    how = "--" $4
		    if ($4 == "estimate") how = "estimated: red cells " $5 " px across"
		    if ($4 == "batch") how = "the median of its size"
		    if ($4 == "none") how = "not measured"
		    printf "%sx%s, scale %.3g (%s)", $1, $2, $3, how }')
		warn=$(awk -F'\t' '{ print $NF }' "$work/row")
	else
		nfail=$((nfail + 1))
		why=$(cat "$work/why")
		printf '%s\t%s\t%s\n' "$done_n" "$f" "$why" >>"$failed"
		say "$f: $why; skipped"
		status="failed"
		warn=-
	fi
	[ "$warn" = - ] || say "$f: warning: $warn"
	if [ -z "$quiet" ]; then
		now=$(date +%s)
		el=$((now - start))
		left=$(awk -v e="$el" -v d="$done_n" -v t="$total" 'BEGIN { printf "%d", e / d * (t - d) }')
		say "[$done_n/$total] ${name:-$f}: $status; $(fmt_time "$el") elapsed, about $(fmt_time "$left") left"
	fi
done <"$list"
# --- the summary and the report ----------------------------------------------

if [ -s "$rows" ]; then
	colorize --legend | pamtopng >"$outdir/legend.png"
	hdr=$(printf '%s\n' "$header" | awk -F'\t' '{ s = ""; for (i = 3; i <= NF && $i != "rbc_components"; i++) s = s "\t" $i; print s }')
	{
		printf 'name\tsource\twidth\theight\tscale\tscale_from\trbc_diameter%s\twarning\n' "$hdr"
		cat "$rows"
	} | awk -F'\t' -v OFS='\t' '
	    # the total line: counts summed; parasitemia and the differential
	    # from the sums
	    NR == 1 { for (i = 1; i <= NF; i++) { h[i] = $i; col[$i] = i }; nf = NF; print; next }
	    { print; for (i = 8; i < nf; i++) sum[i] += $i; n++ }
	    END {
	        line = "total\t" n " images\t\t\t\t\t"
	        for (i = 8; i < nf; i++) {
	            v = sum[i]
	            if (h[i] == "parasitemia")
	                v = sprintf("%.2f", sum[col["rbc"]] ? 100 * sum[col["Infected RBC"]] / sum[col["rbc"]] : 0)
	            else if (h[i] ~ /%$/) {
	                c = substr(h[i], 1, length(h[i]) - 1)
	                v = sprintf("%.2f", sum[col["wbc"]] ? 100 * sum[col[c]] / sum[col["wbc"]] : 0)
	            }
	            line = line "\t" v
	        }
	        print line "\t-"
	    }' >"$outdir/summary.tsv"
	sort -n -o "$failed" "$failed"
	report "$outdir/summary.tsv" "$failed" >"$work/index.html" &&
	    mv -f "$work/index.html" "$outdir/index.html" ||
	    die "$outdir/index.html: cannot write the report"
else
	rmdir "$outdir/thumbs" 2>/dev/null
fi
ok=$((total - nfail))
[ -n "$quiet" ] || say "$ok of $total images in $(fmt_time $(( $(date +%s) - start ))): $outdir/index.html"
[ "$nfail" -eq 0 ] || { say "$nfail of $total images failed (listed in $outdir/index.html)"; exit 2; }
exit 0
