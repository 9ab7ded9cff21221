#!/usr/bin/env bash
# report.sh: `train --report` (of mtlc and of a built program) writes report.html into the
# run folder, and `mtlc report` writes the same page; the page is well-formed, holds one
# <svg> per figure, the gradient-cosine heat map with --grad-stats, and the log's numbers;
# bad folders, logs and outputs give clear errors. Where headless Chromium is installed, it
# renders the page to a PNG (docs/reports.md shows such a screenshot).
source "$(dirname "$0")/common.sh"

"$mtlc" train "$examples/penguins.mtl" -q --epochs 3 --grad-stats --report \
  >"$work/train.txt" 2>&1 || fail "train --report failed: $(cat "$work/train.txt")"
run=runs/penguins/1
page=$run/report.html
[[ -f $page ]] || { fail "train --report wrote no $page"; finish; }

"$mtlc" report "$run" -o "$work/again.html" >"$work/report.txt" 2>&1 ||
  fail "mtlc report failed: $(cat "$work/report.txt")"
grep -qx "report: $work/again.html" "$work/report.txt" || fail "mtlc report did not name its file"
cmp -s "$page" "$work/again.html" || fail "mtlc report and train --report wrote different pages"

# Total loss; species loss, accuracy, macro_f1; sex loss, accuracy, auc; body_mass loss,
# mse, r2; task weights, gradient norms, cosines.
svgs=$(grep -o '<svg ' "$page" | wc -l)
figures=$(grep -o '<figure ' "$page" | wc -l)
[[ $svgs -eq 13 && $figures -eq 13 ]] || fail "expected 13 plots, found $svgs <svg> in $figures <figure>"
grep -q 'gradient cosine between tasks' "$page" || fail "the page has no gradient-cosine heat map"
grep -qi '<script' "$page" && fail "the page holds a script"
grep -Eq '(src|href)="https?:' "$page" && fail "the page fetches something from the network"
# The last epoch's validation accuracy of species, as the tables print it (4 decimals).
accuracy=$("$log_check" value "$run/log.jsonl" last.val.tasks.species.accuracy | sed 's/.* = //')
grep -q ">$(printf '%.4f' "$accuracy")</td>" "$page" ||
  fail "the page lacks the log's species accuracy $accuracy"

if python=$(command -v python3); then
  "$python" - "$page" <<'PY' || fail "Python's XML and HTML parsers do not read the page"
import sys, xml.etree.ElementTree as ET
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
root = ET.fromstring(text[text.index("<html"):])
svgs = root.findall(".//{http://www.w3.org/2000/svg}svg")
assert len(svgs) == len(root.findall(".//figure")) == 13, len(svgs)
HTMLParser().feed(text)
PY
fi

# The log may be elsewhere (--log): the report finds it through config.json.
"$mtlc" train "$examples/penguins.mtl" -q --epochs 1 --log "$work/elsewhere.jsonl" \
  --run-dir "$work/logged" --report >/dev/null 2>&1 || fail "train --log --report failed"
grep -q '<svg ' "$work/logged/report.html" 2>/dev/null || fail "no report with the log elsewhere"
# ... and never writes over it.
before=$(md5sum <"$work/elsewhere.jsonl")
out=$("$mtlc" report "$work/logged" -o "$work/elsewhere.jsonl" 2>&1)
[[ $? -eq 1 && $out == "error: -o $work/elsewhere.jsonl: it is $work/elsewhere.jsonl, which this command reads; write elsewhere" ]] ||
  fail "report -o the run's log elsewhere: $out"
[[ $(md5sum <"$work/elsewhere.jsonl") == "$before" ]] || fail "report -o changed the run's log"

# --report needs a run folder.
out=$("$mtlc" train "$examples/penguins.mtl" --epochs 1 --report --no-save 2>&1)
[[ $? -eq 2 && $out == *"--no-save excludes --report"* ]] ||
  fail "--report with --no-save was not refused: $out"

# A built program's train takes --report too (the same runtime code).
"$mtlc" build "$fixtures/held_out.mtl" -o "$work/held_out" >"$work/build.txt" 2>&1 ||
  fail "build failed: $(cat "$work/build.txt")"
"$work/held_out" train -q --epochs 2 --run-dir "$work/program" --report >/dev/null 2>&1 ||
  fail "the program's train --report failed"
grep -q '<svg ' "$work/program/report.html" 2>/dev/null || fail "the program wrote no report"

# Errors: not a folder of ours, a malformed log line (file and line), an unwritable output.
out=$("$mtlc" report "$work/nowhere" 2>&1)
[[ $? -eq 1 && $out == "error: $work/nowhere: no such folder" ]] || fail "a missing folder: $out"
mkdir -p "$work/empty"
out=$("$mtlc" report "$work/empty" 2>&1)
[[ $? -eq 1 && $out == *"neither a run folder"*"nor an experiment folder"* ]] ||
  fail "a folder that is neither: $out"
mkdir -p "$work/broken"
{ head -n 2 "$run/log.jsonl"; echo '{"type":"epoch","epoch":'; } >"$work/broken/log.jsonl"
out=$("$mtlc" report "$work/broken" 2>&1)
[[ $? -eq 1 && $out == "error: $work/broken/log.jsonl:3: not valid JSON"* ]] ||
  fail "a malformed log line: $out"
out=$("$mtlc" report "$run" -o "$work/no/such/folder/r.html" 2>&1)
[[ $? -eq 1 && $out == *"cannot write the report"* ]] || fail "an unwritable output: $out"
out=$("$mtlc" report "$run" -o "$work/empty/" 2>&1)
[[ $? -eq 1 && $out == "error: cannot write the report to $work/empty/: it is a folder; name the \
file to write (-o), such as $work/empty/report.html" ]] || fail "-o a folder: $out"
# Nor over other work: a file that is not a page, a device (written to, not
# replaced), a link (the file it names gets the page).
cp "$run/summary.json" "$work/notes.txt"
out=$("$mtlc" report "$run" -o "$work/notes.txt" 2>&1)
[[ $? -eq 1 && $out == "error: cannot write the report to $work/notes.txt: it exists and is not an \
HTML page; name another file with -o" ]] || fail "-o over a file that is not a page: $out"
cmp -s "$run/summary.json" "$work/notes.txt" || fail "-o changed a file that is not a page"
if mknod "$work/null" c 1 3 2>/dev/null; then
  "$mtlc" report "$run" -o "$work/null" >/dev/null || fail "-o a device failed"
  [[ -c $work/null ]] || fail "-o a device replaced it with a file"
fi
ln -s page.html "$work/link.html"
"$mtlc" report "$run" -o "$work/link.html" >/dev/null || fail "-o a link failed"
[[ -L $work/link.html && $(head -c 15 "$work/page.html") == "<!DOCTYPE html>" ]] ||
  fail "-o a link replaced the link"

if command -v chromium >/dev/null; then
  timeout 120 chromium --headless --no-sandbox --disable-gpu --window-size=1200,1600 \
    --screenshot="$work/shot.png" "file://$PWD/$page" >"$work/chromium.txt" 2>&1
  size=$(stat -c %s "$work/shot.png" 2>/dev/null || echo 0)
  [[ $size -gt 20000 ]] || fail "Chromium rendered no page ($size bytes): $(tail -3 "$work/chromium.txt")"
else
  echo "chromium is not installed: the page was not rendered"
fi
finish
