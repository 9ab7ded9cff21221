# syn_long_line_error_at_end.gen.sh: a 100000-character line whose error is
# near its end, far past the part of the line a diagnostic shows.
echo '// A very long line with a stray token at its end.'
echo 'model m {'
echo '  input x : f32[4]'
echo '  data train = synthetic(rows = 10) {}'
printf '  task y : regress { head = x'
for _ in $(seq 20000); do printf ' -> relu'; done
echo ' -> dense(1) ] }'
echo '}'
