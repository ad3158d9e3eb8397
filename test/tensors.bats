#!/usr/bin/env bats
# This script tests: tensor-info, and the .npy and safetensors readers and
#   writers of lib/ (numpy reads what we write, we read what numpy writes,
#   every malformed input fails with one line naming the file)
# Also requires: python3-numpy (optional)

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# The unit-test binary writes the fixtures that numpy must read back.
write_fixtures() {
	"$TOP/${SMEARSEG_BUILD:-build}/test/test_formats" --write-npy . ||
	    fail "cannot write fixtures"
}

fail() {
	echo "$*" >&2
	return 1
}

# byte N as one raw byte
byte() {
	printf "\\$(printf %03o "$1")"
}

# mknpy FILE DICT NBYTES [MAJOR]: a .npy whose header is DICT + '\n',
# followed by NBYTES zero bytes of data; versions 2 and up have a 4-byte
# header length.
mknpy() {
	local hlen=$((${#2} + 1)) major=${4:-1}
	{
		printf '\223NUMPY'; byte "$major"; byte 0
		byte $((hlen & 255)); byte $((hlen >> 8))
		[ "$major" -lt 2 ] || { byte 0; byte 0; }
		printf '%s\n' "$2"
		head -c "$3" /dev/zero
	} >"$1"
}

# mkst FILE JSON NBYTES [HEADERLEN]: a safetensors file with header JSON
# followed by NBYTES zero bytes; HEADERLEN overrides the length field.
mkst() {
	local len=${4:-${#2}} i
	{
		for i in 0 1 2 3 4 5 6 7; do byte $(((len >> (8 * i)) & 255)); done
		printf '%s' "$2"
		head -c "$3" /dev/zero
	} >"$1"
}

# st_fails FILE JSON NBYTES MESSAGE: mkst FILE, and tensor-info on it fails
# cleanly with MESSAGE in its one line.
st_fails() {
	mkst "$1" "$2" "$3"
	run --separate-stderr tensor-info "$1"
	assert_fails_cleanly "tensor-info: $1: $4"
}

T1='"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}'

# --- what the project writes ---------------------------------------------------

@test "tensors: tensor-info lists the project's .npy and safetensors files" {
	write_fixtures
	run --separate-stderr tensor-info f32.npy u8.npy f16.npy i64.npy st.safetensors
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "f32.npy F32 2x3x4
u8.npy U8 5x7
f16.npy F16 6
i64.npy I64 scalar
w F32 2x2
b U8 3" ]
}

@test "tensors: tensor-info -m prints the metadata, control characters escaped" {
	write_fixtures
	run --separate-stderr tensor-info -m st.safetensors
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = 'classes=["a", "b"]' ]
	[ "${lines[3]}" = 'note=µm\n' ]
	[ "${#lines[@]}" -eq 4 ]
}

@test "tensors: numpy.load reads f32, u8, f16 and i64 exactly, byte for byte as numpy.save" {
	py=$(numpy_python) || skip "no python3 with numpy"
	write_fixtures
	run "$py" -c '
import numpy as np
f32 = np.load("f32.npy"); u8 = np.load("u8.npy"); f16 = np.load("f16.npy")
i64 = np.load("i64.npy")
assert f32.dtype == np.float32 and f32.shape == (2, 3, 4), f32
assert np.array_equal(f32.ravel(), np.arange(24, dtype=np.float32) * 0.25 - 3)
assert u8.dtype == np.uint8 and u8.shape == (5, 7)
assert np.array_equal(u8.ravel(), (np.arange(35) * 37 % 256).astype(np.uint8))
assert f16.dtype == np.float16 and f16.shape == (6,)
want = np.array([0, 1, -2.5, 65504, 2.0**-24, 0.333251953125], np.float16)
assert np.array_equal(f16.view(np.uint16), want.view(np.uint16)), f16
assert i64.dtype == np.int64 and i64.shape == () and i64 == -1234567890123
for n, a in (("f32", f32), ("u8", u8), ("f16", f16), ("i64", i64)):
    np.save(n + "-np.npy", a)
    assert open(n + ".npy", "rb").read() == open(n + "-np.npy", "rb").read(), n
print("ok")'
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "tensors: the safetensors header is real JSON and the data is where it says" {
	py=$(numpy_python) || skip "no python3 with numpy"
	write_fixtures
	run "$py" -c '
import json, struct, numpy as np
b = open("st.safetensors", "rb").read()
n, = struct.unpack("<Q", b[:8])
assert n % 8 == 0
h = json.loads(b[8:8 + n])
assert h["__metadata__"] == {"classes": "[\"a\", \"b\"]", "note": "\u00b5m\n"}, h
assert json.loads(h["__metadata__"]["classes"]) == ["a", "b"]
data = b[8 + n:]
w = h["w"]; s, e = w["data_offsets"]
assert w["dtype"] == "F32" and w["shape"] == [2, 2]
assert np.array_equal(np.frombuffer(data[s:e], "<f4"), [1, 2, 3, 4])
s, e = h["b"]["data_offsets"]
assert list(data[s:e]) == [7, 8, 9] and e == len(data)
print("ok")'
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "tensors: the safetensors header is written in the compact layout that earlier releases read" {
	# __metadata__ first, tensors in the order given, no spaces but the
	# padding to a multiple of 8, non-ASCII text as raw UTF-8: the bytes
	# that readers from before the move to jansson were tested on
	write_fixtures
	want='{"__metadata__":{"classes":"[\"a\", \"b\"]","note":"µm\n"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}      '
	[ "$(od -An -tu8 -N8 st.safetensors | tr -d ' ')" -eq 176 ]
	[ "$(tail -c +9 st.safetensors | head -c 176)" = "$want" ]
}

@test "tensors: tensor-info reads what numpy.save writes, every supported dtype" {
	py=$(numpy_python) || skip "no python3 with numpy"
	"$py" -c '
import numpy as np
np.save("a.npy", np.zeros((3, 224, 224), np.float32))
np.save("b.npy", np.zeros((2,), np.float16))
np.save("c.npy", np.zeros((4, 5), np.uint8))
np.save("d.npy", np.int32(7))
np.save("e.npy", np.zeros((0, 3), np.int64))
np.save("f.npy", np.zeros((1, 2, 3, 4, 5, 6, 7, 8), np.float64))'
	run --separate-stderr tensor-info a.npy b.npy c.npy d.npy e.npy f.npy
	[ "$status" -eq 0 ]
	[ "$output" = "a.npy F32 3x224x224
b.npy F16 2
c.npy U8 4x5
d.npy I32 scalar
e.npy I64 0x3
f.npy F64 1x2x3x4x5x6x7x8" ]
}

@test "tensors: numpy's Fortran order, big-endian and bool arrays are refused" {
	py=$(numpy_python) || skip "no python3 with numpy"
	"$py" -c '
import numpy as np
np.save("fo.npy", np.asfortranarray(np.zeros((2, 3), np.float32)))
np.save("be.npy", np.zeros(3, ">f4"))
np.save("bool.npy", np.zeros(3, bool))'
	run --separate-stderr tensor-info fo.npy
	assert_fails_cleanly "tensor-info: fo.npy: Fortran-order array (expected 'fortran_order': False)"
	run --separate-stderr tensor-info be.npy
	assert_fails_cleanly "tensor-info: be.npy: unsupported dtype '>f4' (expected '<f4', "
	run --separate-stderr tensor-info bool.npy
	assert_fails_cleanly "tensor-info: bool.npy: unsupported dtype '|b1'"
}

@test "tensors: a .npy stream on stdin lists each array" {
	write_fixtures
	run --separate-stderr bash -c "cat f32.npy u8.npy | tensor-info"
	[ "$status" -eq 0 ]
	[ "$output" = "<stdin> F32 2x3x4
<stdin> U8 5x7" ]
}

@test "tensors: a hand-made .npy (version 2.0, spaced, double quotes) is read" {
	mknpy v2.npy '{"shape": ( 2 , 3 ), "fortran_order": False, "descr": "<i4"}' 24 2
	run --separate-stderr tensor-info v2.npy
	[ "$status" -eq 0 ]
	[ "$output" = "v2.npy I32 2x3" ]
}

# --- bad .npy ------------------------------------------------------------------

@test "tensors: truncated .npy header" {
	write_fixtures
	head -c 40 f32.npy >t.npy
	run --separate-stderr tensor-info t.npy
	assert_fails_cleanly "tensor-info: t.npy: truncated .npy header: expected 118 bytes, found 30"
}

@test "tensors: .npy with a bad magic" {
	mknpy m.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" 8
	printf 'X' | dd of=m.npy bs=1 conv=notrunc status=none
	run --separate-stderr tensor-info m.npy
	assert_fails_cleanly "tensor-info: m.npy: not a .npy file (bad magic: expected \\x93NUMPY)"
}

@test "tensors: .npy with an unsupported version" {
	mknpy v.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" 8 4
	run --separate-stderr tensor-info v.npy
	assert_fails_cleanly "tensor-info: v.npy: unsupported .npy version 4.0 (expected 1.0, 2.0 or 3.0)"
}

@test "tensors: .npy with a bad header dict" {
	mknpy k.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}" 8
	run --separate-stderr tensor-info k.npy
	assert_fails_cleanly "tensor-info: k.npy: bad .npy header: unexpected or repeated key 'x'"
	mknpy c.npy "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}" 8
	run --separate-stderr tensor-info c.npy
	assert_fails_cleanly "tensor-info: c.npy: bad .npy header: expected ',' or '}' after a value"
	mknpy s.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}" 8
	run --separate-stderr tensor-info s.npy
	assert_fails_cleanly "tensor-info: s.npy: bad .npy header: 'shape' (N) is not a tuple (expected (N,))"
	mknpy n.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}" 8
	run --separate-stderr tensor-info n.npy
	assert_fails_cleanly "tensor-info: n.npy: bad .npy header: 'shape' holds something other than non-negative integers"
	mknpy o.npy "{'descr': '<f4', 'shape': (2,)}" 8
	run --separate-stderr tensor-info o.npy
	assert_fails_cleanly "tensor-info: o.npy: bad .npy header: missing key 'fortran_order'"
}

@test "tensors: .npy in Fortran order" {
	mknpy f.npy "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }" 16
	run --separate-stderr tensor-info f.npy
	assert_fails_cleanly "tensor-info: f.npy: Fortran-order array (expected 'fortran_order': False)"
}

@test "tensors: .npy with an unknown dtype" {
	mknpy d.npy "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }" 16
	run --separate-stderr tensor-info d.npy
	assert_fails_cleanly "tensor-info: d.npy: unsupported dtype '<c8' (expected '<f4', '<f2', '<f8', '|u1', '<i4' or '<i8')"
}

@test "tensors: .npy data shorter than its shape" {
	mknpy s.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" 10
	run --separate-stderr tensor-info s.npy
	assert_fails_cleanly "tensor-info: s.npy: truncated data: expected 24 bytes, found 10"
}

@test "tensors: .npy with trailing garbage after the array" {
	mknpy g.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }" 2
	printf 'junk' >>g.npy
	run --separate-stderr tensor-info g.npy
	assert_fails_cleanly "tensor-info: g.npy: not a .npy file (bad magic"
}

# --- bad safetensors -----------------------------------------------------------

@test "tensors: a hand-made safetensors file (compact JSON, escapes) is read" {
	mkst ok.safetensors '{"__metadata__":{"format":"pt"},"a\u00e9":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}' 2
	run --separate-stderr tensor-info -m ok.safetensors
	[ "$status" -eq 0 ]
	[ "$output" = "aé F16 scalar
format=pt" ]
}

@test "tensors: safetensors header length beyond the file" {
	mkst l.safetensors "{$T1}" 16 1000
	run --separate-stderr tensor-info l.safetensors
	assert_fails_cleanly "tensor-info: l.safetensors: header length 1000 exceeds the file (expected at most "
}

@test "tensors: safetensors with invalid JSON" {
	st_fails j.safetensors '{"w": {"dtype": "F32", "shape": [2, 2] "data_offsets": [0, 16]}}' 16 \
	    "invalid JSON header: "
	st_fails c.safetensors "{$T1,}" 16 \
	    "invalid JSON header: string or '}' expected near '}' at byte 66"
	st_fails q.safetensors "{'w': {'dtype': 'F32', 'shape': [2, 2], 'data_offsets': [0, 16]}}" 16 \
	    "invalid JSON header: string or '}' expected near ''' at byte 2"
	st_fails y.safetensors '{"w": &x {"dtype": "F32"}}' 0 \
	    "invalid JSON header: invalid token near '&'"
	st_fails z.safetensors '{"w": {"dtype": "F32", "shape": [02], "data_offsets": [0, 8]}}' 8 \
	    "invalid JSON header: invalid token near '0'"
}

@test "tensors: safetensors with a repeated tensor name, metadata key or tensor key" {
	st_fails t.safetensors "{$T1, $T1}" 16 \
	    "bad safetensors header: key 'w' repeated at byte 69"
	st_fails m.safetensors "{\"__metadata__\": {\"a\\\"\": \"1\", \"a\\\"\": \"2\"}, $T1}" 16 \
	    "bad safetensors header: key 'a\"' repeated at byte 35"
	st_fails k.safetensors '{"w": {"dtype": "F32", "shape": [2, 2], "dtype": "F32", "data_offsets": [0, 16]}}' 16 \
	    "bad safetensors header: key 'dtype' repeated"
	st_fails x.safetensors '{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16], "x": 1}}' 16 \
	    "bad safetensors header: tensor 'w' has an unexpected key 'x' (expected dtype, shape, data_offsets)"
}

@test "tensors: safetensors offsets out of range" {
	st_fails r.safetensors "{$T1}" 8 \
	    "tensor 'w': data_offsets [0, 16] out of range (the data buffer has 8 bytes)"
}

@test "tensors: safetensors offsets that overlap, leave gaps or do not match the shape" {
	st_fails o.safetensors "{$T1, \"v\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}" 16 \
	    "tensor 'v' overlaps tensor 'w' (expected disjoint data_offsets)"
	st_fails g.safetensors "{$T1}" 20 \
	    "4 unused bytes after the last tensor"
	st_fails s.safetensors '{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}' 8 \
	    "tensor 'w': data_offsets [0, 8] hold 8 bytes (expected 16 for F32 of its shape)"
}

@test "tensors: safetensors with an unknown dtype or a negative dimension" {
	st_fails d.safetensors '{"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}' 4 \
	    "tensor 'w': unsupported dtype 'BF16' (expected F32, F16, F64, U8, I32 or I64)"
	st_fails n.safetensors '{"w": {"dtype": "U8", "shape": [-2], "data_offsets": [0, 2]}}' 2 \
	    "bad safetensors header: tensor 'w' shape holds the negative number -2"
}

@test "tensors: safetensors metadata that is not a string" {
	st_fails m.safetensors "{\"__metadata__\": {\"epochs\": 3}, $T1}" 16 \
	    "bad safetensors header: __metadata__ value of 'epochs' is not a string"
}

# --- files and the command line ------------------------------------------------

@test "tensors: an empty file" {
	: >e.npy
	run --separate-stderr tensor-info e.npy
	assert_fails_cleanly "tensor-info: e.npy: empty file (expected a .npy or safetensors file)"
}

@test "tensors: a file that is neither format" {
	printf 'P5\n1 1\n255\n\0' >x.pgm
	run --separate-stderr tensor-info x.pgm
	assert_fails_cleanly "tensor-info: x.pgm: not a .npy or safetensors file"
}

@test "tensors: a nonexistent file" {
	run --separate-stderr tensor-info nope.npy
	assert_fails_cleanly "tensor-info: nope.npy: No such file or directory"
}

@test "tensors: an error in a later file leaves stdout empty" {
	write_fixtures
	: >e.npy
	run --separate-stderr tensor-info f32.npy e.npy
	assert_fails_cleanly "tensor-info: e.npy: empty file"
}

@test "tensors: tensor-info rejects an unknown option" {
	run --separate-stderr tensor-info -x
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "tensor-info: unknown option '-x'" ]
	[ "${stderr_lines[1]}" = "usage: tensor-info [-m] [file ...]" ]
}

@test "tensors: tensor-info --help and --version" {
	run --separate-stderr tensor-info --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: tensor-info [-m] [file ...]" ]
	run --separate-stderr tensor-info --version
	[ "$status" -eq 0 ]
	[[ "$output" == "tensor-info (smearseg) "* ]]
}

@test "tensors: the tensor entries that tensor-format.md shows are those of the shipped model" {
	# every '"NAME": {"dtype": ..., "data_offsets": [...]}' of the doc's
	# header example, joined over its lines, is in the default model's
	# header as it stands
	doc=$TOP/share/doc/tensor-format.md
	model=$TOP/share/models/default.safetensors
	perl -e '
	use strict; use warnings; use JSON::PP;
	my ($doc, $model) = @ARGV;
	open my $d, "<", $doc or die "$doc: $!\n";
	my $text = do { local $/; <$d> };
	$text =~ s/\n\s+/ /g;
	my @shown = $text =~ /"([a-z][a-z0-9_]*\.[a-z0-9_.]+)": (\{"dtype".*?\]\})/g;
	die "no tensor entries in $doc\n" unless @shown;
	open my $m, "<:raw", $model or die "$model: $!\n";
	my ($len, $hdr);
	read $m, $len, 8;
	read $m, $hdr, unpack("Q<", $len);
	my $h = decode_json($hdr);
	my $json = JSON::PP->new->canonical;
	while (my ($name, $entry) = splice @shown, 0, 2) {
		die "$doc: $name is not a tensor of $model\n" unless $h->{$name};
		my $want = $json->encode(decode_json($entry));
		my $got = $json->encode($h->{$name});
		die "$doc: $name is $want, the model has $got\n" if $want ne $got;
	}' "$doc" "$model"
}
