#!/bin/bash
# llama_ratio.sh NATIVE VGPU (two markdown files): one line per model size and test of two llama-bench markdown
# tables, vgpu's t/s as a share of native's, against the targets (tg >= 95 %, pp >= 90 %).
awk -F'|' '
  FNR == 1 { side++ }
  $0 ~ /CUDA/ && NF > 8 {
    size = $3; test = $7; gsub(/ /, "", size); gsub(/ /, "", test)
    split($8, t, "±"); v = t[1] + 0
    key = size " " test
    if (side == 1) { nat[key] = v; order[++n] = key } else { vg[key] = v }
  }
  END {
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (!(k in vg) || nat[k] == 0) { printf "%-24s no vgpu figure\n", k; continue }
      pct = 100 * vg[k] / nat[k]
      target = (k ~ /tg/) ? 95 : 90
      printf "%-24s %5.1f%% of native (%.0f vs %.0f t/s), target %d%%: %s\n", k, pct, vg[k], nat[k], target, (pct >= target ? "met" : "missed")
    }
  }' "$1" "$2"
