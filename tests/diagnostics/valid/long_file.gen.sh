# long_file.gen.sh: a valid library of 30000 blocks (about 1.5 MB), checked
# within the 10 s limit.
echo '// 30000 blocks.'
for i in $(seq 30000); do echo "block b$i(w) { dense(w) -> relu }"; done
