#!/usr/bin/env bash
# predict_arrays.sh: a built program predicts for a model whose inputs come
# from several .npy arrays. One .npy file cannot be all of them (predict
# gave it to every input, silently): it is refused, and a .npz archive gives
# each input the array of its name.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# .npy files and .npz archives with Python's standard library only.
python3 - <<'EOF' || fail "writing the arrays failed"
import io, random, struct, zipfile

def npy(rows, width):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), width)
    header += " " * (-(len(header) + 11) % 64) + "\n"
    body = b"".join(struct.pack("<%df" % width, *row) for row in rows)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body

rng = random.Random(3)
a = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(64)]
b = [[rng.uniform(-2, 2), rng.uniform(0, 3)] for _ in range(64)]
t = [[r[0] * 2 - r[1]] for r in b]
for name, rows, width in (("pa", a, 2), ("pb", b, 2), ("pt", t, 1)):
    open(name + ".npy", "wb").write(npy(rows, width))
for name, members in (("ab", {"a": a, "b": b}), ("bb", {"a": b, "b": b}), ("aa", {"a": a, "b": a})):
    with zipfile.ZipFile(name + ".npz", "w") as z:
        for key, rows in members.items():
            z.writestr(key + ".npy", npy(rows, 2))
EOF

cat >two.mtl <<'EOF'
model two {
  input a : f32[2]
  input b : f32[2]
  data train = npy(a = "pa.npy", b = "pb.npy", t = "pt.npy") {
    a = array(a)
    b = array(b)
    y = array(t)
    z = array(t)
  }
  task y : regress { head = a -> dense(1) }
  task z : regress { head = b -> dense(1) }
  optimizer adam(lr = 0.05)
  train { epochs = 3, batch = 16, seed = 1 }
}
EOF
"$mtlc" build two.mtl -o two_prog >build.log 2>&1 || fail "build failed: $(cat build.log)"
./two_prog train --run-dir run -q >train.log 2>&1 || fail "train failed: $(cat train.log)"
predict() { ./two_prog predict --checkpoint run/last.safetensors --input "$1" 2>&1; }

out=$(predict pa.npy)
[[ $? -eq 1 && $out == *"--input pa.npy: data set 'train' reads its inputs from 2 arrays (a, b); give them in one .npz archive, each under its name"* ]] ||
  fail "predict from one of two arrays: $out"
ab=$(predict ab.npz) || fail "predict from ab.npz: $ab"
bb=$(predict bb.npz) || fail "predict from bb.npz: $bb"
aa=$(predict aa.npz) || fail "predict from aa.npz: $aa"
# Task z reads only b: the same b, the same predictions of z; another b, others.
column() { awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == name) c = i; next }
  { print $c }' <<<"$1"; }
[[ $(wc -l <<<"$ab") -eq 65 ]] || fail "predict ab.npz: not 64 rows: $ab"
[[ $(column "$ab" z) == "$(column "$bb" z)" ]] || fail "z differs though b is the same"
[[ $(column "$ab" z) != "$(column "$aa" z)" ]] || fail "z is the same though b differs"
[[ $(column "$ab" y) == "$(column "$aa" y)" ]] || fail "y differs though a is the same"
finish
