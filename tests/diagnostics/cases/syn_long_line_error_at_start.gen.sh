# syn_long_line_error_at_start.gen.sh: a 100000-character line whose error is
# near its start; the shown source line is cut at 200 characters.
echo '// A very long line with an error near its start.'
echo 'model m {'
echo '  input x : f32[4]'
echo '  data train = synthetic(rows = 10) {}'
printf '  task y : regress { head = x -> -> dense(1)'
for _ in $(seq 20000); do printf ' -> relu'; done
echo ' }'
echo '}'
