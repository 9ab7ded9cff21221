# syn_long_file_error_at_end.gen.sh: a library of 30000 blocks (about 1.5 MB)
# with a syntax error on its last line.
echo '// 30000 blocks, then a block without a body.'
for i in $(seq 30000); do echo "block b$i(w) { dense(w) -> relu }"; done
echo 'block broken(w)'
