#!/usr/bin/env bash
# html_export.sh WORK_DIR
# `kgrade export --format html` of a real run (and the run edited to stand
# for another device, for the compare view), loaded in a real headless
# Chromium (Debian's): the page must load with no console message, every
# figure (svg.kg-plot) must hold drawn marks of non-empty geometry, the
# speedup plots the claimed factor; a screenshot is kept in WORK_DIR.
# Skipped (77) where no chromium is installed.
set -u
work=$1
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: no chromium (scripts/install-deps.sh installs it)"; exit 77; }
"$KGRADE" run --workload softmax,rmsnorm --size-class smoke --min-samples 8 --max-samples 8 \
    --resamples 1000 --quiet --out "$work/a.jsonl" >"$work/a.log" 2>&1 || fail "kgrade run"
python3 - "$work" <<'PY' || fail "could not make the second file"
import json, sys
work = sys.argv[1]
with open(f"{work}/b.jsonl", "w") as f:
    for line in open(f"{work}/a.jsonl"):
        r = json.loads(line)
        if r["type"] == "run":
            r["device"]["name"] = "Other GPU"
        if r["type"] == "shape":
            for role in ("baseline", "candidate"):
                r[role]["samples_s"] = [x / 2 for x in r[role]["samples_s"]]
        f.write(json.dumps(r) + "\n")
PY
"$KGRADE" export --format html --claim 3 "$work/a.jsonl" "$work/b.jsonl" >"$work/page.html" ||
    fail "kgrade export --format html"
grep -q '<script' "$work/page.html" && fail "the page holds a script"
grep -Eq 'src="(https?:)?//|href="(https?:)?//' "$work/page.html" && fail "the page loads something"
figures=$(grep -c '<svg class="kg-plot"' "$work/page.html")
# softmax and rmsnorm: 3 figures each; the roofline; the compare view.
[ "$figures" = 8 ] || fail "$figures figures, want 8"
cat >"$work/check.html" <<'HTML'
<!DOCTYPE html><html><body><pre id="result">not run</pre>
<iframe id="page" src="page.html" width="900" height="3000"></iframe>
<script>
window.addEventListener("load", () => {
  const doc = document.getElementById("page").contentDocument;
  const out = [];
  for (const svg of doc.querySelectorAll("svg.kg-plot")) {
    const box = svg.getBBox();
    let marks = 0;
    for (const el of svg.querySelectorAll("circle, line, polyline, rect")) {
      const b = el.getBBox();
      if (b.width > 0 || b.height > 0) marks++;
    }
    out.push([Math.round(box.width), Math.round(box.height), marks,
              svg.textContent.includes("claimed") ? 1 : 0].join(","));
  }
  document.getElementById("result").textContent = "figures " + out.join(" ");
});
</script></body></html>
HTML
flags=(--headless --no-sandbox --disable-gpu --allow-file-access-from-files)
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/check.html" >"$work/dom.html" \
    2>"$work/dom.err" || fail "chromium --dump-dom: $(tail -3 "$work/dom.err")"
timeout 120 "$browser" "${flags[@]}" --enable-logging=stderr --v=0 --window-size=900,3000 \
    --screenshot="$work/page.png" "file://$work/page.html" >"$work/shot.log" 2>&1 ||
    fail "chromium --screenshot: $(tail -3 "$work/shot.log")"
[ -s "$work/page.png" ] || fail "no screenshot"
grep -E 'CONSOLE|Uncaught' "$work/shot.log" && fail "console messages while loading the page"
python3 - "$work" <<'PY' || exit 1
import re, sys
work = sys.argv[1]
m = re.search(r'<pre id="result">figures ([^<]*)</pre>', open(f"{work}/dom.html").read())
if not m:
    print("FAIL: the check did not run in the browser")
    sys.exit(1)
figs = [tuple(int(x) for x in f.split(",")) for f in m.group(1).split()]
if len(figs) != 8:
    print(f"FAIL: the browser saw {len(figs)} figures")
    sys.exit(1)
for i, (w, h, marks, claimed) in enumerate(figs):
    if w <= 0 or h <= 0 or marks < 3:
        print(f"FAIL: figure {i + 1}: {w}x{h}, {marks} marks drawn")
        sys.exit(1)
claims = sum(c for *_, c in figs)
if claims != 2:  # the two speedup plots
    print(f"FAIL: the claimed factor is on {claims} figures, want 2")
    sys.exit(1)
print(f"html: 8 figures drawn in Chromium ({', '.join(f'{w}x{h}/{m}' for w, h, m, _ in figs)}), "
      "no console message, screenshot page.png")
PY
