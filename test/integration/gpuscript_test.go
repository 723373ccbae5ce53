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
