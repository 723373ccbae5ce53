#!/bin/bash
# latency_table.sh FILE: the table of test/gpu/latency_checks.sh from its tab-separated figures,
# one line per path: name, round trip set (µs, "-" natively), the median round trip of a small
# call (µs), tg128 and pp512 (t/s), and per generated token: round trips, async calls, bytes out,
# bytes in. The first line is native. Printed per path: the measured t/s and their share of
# native, and two predictions of tg128 by the model rate = 1 / (t + n_rt × r) (docs/NETWORK.md):
#   native+set  t = native's time per token, r = the round trip set
#   tcp+added   t = the direct TCP path's time per token, r = the call's round trip less the
#               direct path's (what the relay really added)
# n_rt is the path's own round trips per token (the direct path's where it has none).
awk -F'\t' '
  function num(x) { return x != "" && x != "-" }
  function pred(t_s, n, r_us) { return (t_s > 0 && num(n) && r_us != "") ? sprintf("%.1f", 1 / (t_s + n * r_us / 1e6)) : "-" }
  function pct(v, ref) { return (ref > 0 && v > 0) ? sprintf("%.1f%%", 100 * v / ref) : "-" }
  {
    name[NR] = $1; set[NR] = $2; call[NR] = $3; tg[NR] = $4 + 0; pp[NR] = $5 + 0; rt[NR] = $6; bo[NR] = $8; bi[NR] = $9
    if ($1 == "tcp") { tcp = NR }
  }
  END {
    printf "%-12s %8s %9s %10s %7s %11s %10s %10s %7s %8s %s\n", "path", "RTT set", "call RTT", "tg128 t/s", "/native", "native+set", "tcp+added", "pp512 t/s", "/native", "rt/token", "bytes out/in per token"
    for (i = 1; i <= NR; i++) {
      n = num(rt[i]) ? rt[i] : (tcp ? rt[tcp] : "-")
      p1 = (i == 1) ? "-" : pred(tg[1] > 0 ? 1 / tg[1] : 0, n, num(set[i]) ? set[i] : "")
      p2 = (i == 1 || !tcp || !num(call[i]) || !num(call[tcp])) ? "-" : pred(tg[tcp] > 0 ? 1 / tg[tcp] : 0, n, call[i] - call[tcp])
      printf "%-12s %8s %9s %10.1f %7s %11s %10s %10.1f %7s %8s %s\n", name[i], num(set[i]) ? set[i] " us" : "-", num(call[i]) ? call[i] " us" : "-",
        tg[i], pct(tg[i], tg[1]), p1, p2, pp[i], pct(pp[i], pp[1]), num(rt[i]) ? rt[i] : "-", num(bo[i]) ? sprintf("%.0f / %.0f", bo[i], bi[i]) : "-"
    }
  }' "$1"
