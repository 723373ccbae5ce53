package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The GPU script's llama-bench summary: from the two markdown tables llama-bench printed at
// 11:20 (H100), one line per model and test with vgpu's share of native and the target's verdict.
func TestLlamaRatio(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("bash", filepath.Join(root, "test/gpu/llama_ratio.sh"),
		filepath.Join("testdata", "llama-bench-native.md"), filepath.Join("testdata", "llama-bench-vgpu.md")).CombinedOutput()
	if err != nil {
		t.Fatalf("llama_ratio.sh: %v\n%s", err, out)
	}
	want := []string{
		"1.47MiB pp512             63.6% of native (266137 vs 418390 t/s), target 90%: missed",
		"1.47MiB tg128             98.3% of native (7959 vs 8098 t/s), target 95%: met",
		"104.76MiB pp512           88.1% of native (133958 vs 152055 t/s), target 90%: missed",
		"104.76MiB tg128           96.8% of native (2612 vs 2698 t/s), target 95%: met",
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The GPU script's latency table (test/gpu/latency_table.sh) from figures made up to check its
// arithmetic (testdata/latency-synthetic.tsv): each prediction is 1 / (t + n_rt × r), with t
// and r as the script's comment says, and a path without its own round-trip count uses the
// direct path's.
func TestLatencyTable(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("bash", filepath.Join(root, "test/gpu/latency_table.sh"),
		filepath.Join("testdata", "latency-synthetic.tsv")).CombinedOutput()
	if err != nil {
		t.Fatalf("latency_table.sh: %v\n%s", err, out)
	}
	want := []string{
		"path          RTT set  call RTT  tg128 t/s /native  native+set  tcp+added  pp512 t/s /native rt/token bytes out/in per token",
		"native              -         -     2698.1  100.0%           -          -   152055.0  100.0%        - -",
		"tcp              0 us   35.0 us     2400.0   89.0%      2698.1     2400.0   140000.0   92.1%     1.02 5000 / 1200",
		"relay-50us      50 us  110.0 us     2300.0   85.2%      2371.7     2027.7   139000.0   91.4%     1.02 5000 / 1200",
		"relay-200us    200 us  260.0 us     1900.0   70.4%      1740.2     1547.6   130000.0   85.5%     1.02 5000 / 1200",
		"relay-1000us  1000 us 1080.0 us      700.0   25.9%       719.1      674.5   100000.0   65.8%        - -",
	}
	if got := strings.Split(strings.TrimRight(string(out), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
