#!/bin/bash
# Joins two outputs of bench (native first, vgpu second) into one table:
#   metric  native  vgpu  vgpu/native %  target  verdict
# Lines other than "metric <name> <value> <unit>" are ignored. Targets:
#   launch_async_us          launch rate >= 90 % of native   (vgpu time <= native time / 0.9)
#   launch_sync_us           <= 2x native
#   *_64MiB_GBps, *_512MiB_GBps (pageable and pinned, both directions)
#                            >= 80 % of native pageable bandwidth of the same direction and size
# The last line counts them: "targets: P PASS, M MISS of T". Exit status 0 (it reports, it does
# not judge); usage: compare.sh NATIVE_FILE VGPU_FILE
set -u
if [ $# -ne 2 ] || [ ! -r "$1" ] || [ ! -r "$2" ]; then
  echo "usage: $0 NATIVE_FILE VGPU_FILE" >&2
  exit 2
fi
awk '
FNR == 1 { file++ }
$1 == "metric" && NF >= 3 {
  if (file == 1) { nat[$2] = $3; unit[$2] = $4; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
  else { vg[$2] = $3; if (!($2 in seen)) { seen[$2] = 1; unit[$2] = $4; order[++n] = $2 } }
}
function fmt(x) { return (x == "") ? "-" : sprintf("%.3f", x) }
END {
  printf "%-26s %12s %12s %9s  %-26s %s\n", "metric", "native", "vgpu", "vgpu/nat", "target", "verdict"
  pass = 0; miss = 0
  for (i = 1; i <= n; i++) {
    m = order[i]
    nv = (m in nat) ? nat[m] : ""; vv = (m in vg) ? vg[m] : ""
    ratio = (nv != "" && vv != "" && nv + 0 != 0) ? sprintf("%.1f%%", 100 * vv / nv) : "-"
    target = "-"; verdict = ""
    if (m == "launch_async_us") {
      target = "rate >= 90% of native"
      if (nv == "" || vv == "") verdict = "MISS (no value)"
      else verdict = (vv + 0 <= (nv + 0) / 0.9) ? "PASS" : "MISS"
    } else if (m == "launch_sync_us") {
      target = "<= 2x native"
      if (nv == "" || vv == "") verdict = "MISS (no value)"
      else verdict = (vv + 0 <= 2 * nv) ? "PASS" : "MISS"
    } else if (m ~ /^(h2d|d2h)_(pageable|pinned)_(64MiB|512MiB)_GBps$/) {
      split(m, p, "_")
      ref = p[1] "_pageable_" p[3] "_GBps"
      rv = (ref in nat) ? nat[ref] : ""
      target = ">= 80% native pageable"
      if (rv == "" || vv == "") verdict = "MISS (no value)"
      else {
        verdict = (vv + 0 >= 0.8 * rv) ? "PASS" : "MISS"
        if (m != ref) target = sprintf(">= 80%% of %.2f", rv)
      }
    }
    if (verdict ~ /^PASS/) pass++
    else if (verdict ~ /^MISS/) miss++
    printf "%-26s %12s %12s %9s  %-26s %s\n", m, fmt(nv), fmt(vv), ratio, target, verdict
  }
  printf "targets: %d PASS, %d MISS of %d\n", pass, miss, pass + miss
}' "$1" "$2"
