# long_line.gen.sh: a valid model whose head is one 160000-character line.
echo 'model m {'
echo '  input x : f32[4]'
echo '  data train = synthetic(rows = 10) {}'
printf '  task y : regress { head = x'
for _ in $(seq 20000); do printf ' -> relu'; done
echo ' -> dense(1) }'
echo '}'
