#!/usr/bin/env python3
# read_checkpoint.py: reads an mtlc checkpoint with only json and struct, as docs/checkpoints.md
# describes the format, checks its layout, and prints what it holds as one JSON object:
#   {"metadata": {...}, "tensors": {NAME: {"dtype": ..., "shape": [...], "values": [...]}}}
# Exits 1 with a message when the file breaks the format.
import json
import struct
import sys

SIZES = {"F32": 4, "F64": 8, "I64": 8}
CODES = {"F32": "f", "F64": "d", "I64": "q"}


def fail(message):
    sys.stderr.write("read_checkpoint.py: %s\n" % message)
    sys.exit(1)


def main(path):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        fail("shorter than the header length")
    (length,) = struct.unpack("<Q", blob[:8])
    if 8 + length > len(blob) or length % 8 != 0:
        fail("bad header length %d" % length)
    header = json.loads(blob[8 : 8 + length].decode("utf-8"))
    data = blob[8 + length :]
    metadata = header.pop("__metadata__", {})
    if metadata.get("format") != "mtlc-checkpoint-1":
        fail("metadata format is %r" % metadata.get("format"))
    tensors = {}
    end = 0
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = entry["data_offsets"]
        count = 1
        for d in entry["shape"]:
            count *= d
        if begin != end or stop - begin != count * SIZES[entry["dtype"]]:
            fail("tensor %s: offsets [%d, %d] do not follow on from %d" % (name, begin, stop, end))
        end = stop
        values = struct.unpack("<%d%s" % (count, CODES[entry["dtype"]]), data[begin:stop])
        tensors[name] = {"dtype": entry["dtype"], "shape": entry["shape"], "values": list(values)}
    if end != len(data):
        fail("tensor data is %d bytes, the entries cover %d" % (len(data), end))
    json.dump({"metadata": metadata, "tensors": tensors}, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: read_checkpoint.py FILE")
    main(sys.argv[1])
