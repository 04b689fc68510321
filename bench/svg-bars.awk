# A horizontal bar chart as SVG, from tab-separated input, for the bench scripts' results.
#   line 1: the title
#   line 2: the unit of the values (e.g. "requests/s")
#   then one line per bar: label <TAB> value <TAB> note (the note, e.g. "1.02x nginx", is
#   printed after the value; a value of "-" draws no bar and prints the note alone)
# Usage: awk -f bench/svg-bars.awk data.tsv > chart.svg
BEGIN { FS = "\t"; n = 0; max = 0 }
NR == 1 { title = $0; next }
NR == 2 { unit = $0; next }
NF >= 2 {
  n++; label[n] = $1; value[n] = $2; note[n] = (NF >= 3 ? $3 : "")
  if (length($1) > maxlabel) maxlabel = length($1)
  if ($2 != "-" && $2 + 0 > max) max = $2 + 0
}
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function thousands(v,   s, out) {
  s = sprintf("%.0f", v); out = ""
  while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
  return s out
}
END {
  left = 16 + 7.5 * maxlabel; if (left < 110) left = 110
  barw = 420; rowh = 34; top = 48; width = left + barw + 260
  height = top + n * rowh + 30
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", width, height, width, height
  printf "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
  printf "<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", esc(title)
  printf "<text x=\"12\" y=\"40\" fill=\"#555\">%s</text>\n", esc(unit)
  for (i = 1; i <= n; i++) {
    y = top + (i - 1) * rowh
    w = (value[i] == "-" || max == 0) ? 0 : value[i] / max * barw
    color = (label[i] ~ /^peloton/) ? "#d9480f" : "#4a6fa5"
    printf "<text x=\"%.0f\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 8, y + 20, esc(label[i])
    if (w > 0) printf "<rect x=\"%.0f\" y=\"%d\" width=\"%.1f\" height=\"24\" fill=\"%s\"/>\n", left, y + 4, w, color
    txt = (value[i] == "-") ? "n/a" : thousands(value[i])
    if (note[i] != "") txt = txt " | " note[i]
    printf "<text x=\"%.1f\" y=\"%d\">%s</text>\n", left + w + 6, y + 20, esc(txt)
  }
  printf "</svg>\n"
}
