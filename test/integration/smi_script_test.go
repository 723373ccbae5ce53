package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smiHarness stands in for test/gpu/run.sh around test/gpu/smi_checks.sh: its variables, a
// check() that runs the vgpu side (the native one would run the same stand-in through the same
// stub, so it is a copy) and diffs the two after the filter, a GPU-less wrapper that only runs
// the command.
const smiHarness = `set -u
ROOT=$1 BIN=$ROOT/build/out LOGS=$2 GPULESS=$3
export VGPU_SERVER=$4
RESULTS=()
log() { echo "== $*"; }
check() {
  local name=$1 filter=$2; shift 2
  local native=()
  while [ "$1" != "--" ]; do native+=("$1"); shift; done; shift
  "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" "$@" >"$LOGS/$name.vgpu.txt" 2>&1; local rv=$?
  cp "$LOGS/$name.vgpu.txt" "$LOGS/$name.native.txt"; local rn=$rv
  diff <(eval "$filter" <"$LOGS/$name.native.txt") <(eval "$filter" <"$LOGS/$name.vgpu.txt") >"$LOGS/$name.diff"
  RESULTS+=("$name rc $rn $rv diff $?")
}
. "$ROOT/test/gpu/smi_checks.sh"
printf 'RESULT %s\n' "${RESULTS[@]}"
`

// TestSmiChecksScript: test/gpu/smi_checks.sh, the GPU machine's nvidia-smi diagnostic, with a
// stand-in nvidia-smi (testdata/nvml_smi.c, which calls the private table's slots, readings and
// an unimplemented export through the stub) and a sim server: every view is run on both sides,
// the private-table probe (test/gpu/nvml_exporttable.c) is built and run, and the debug traces
// are summarised into the functions called, those vgpu does not implement, those answering
// NVML_ERROR_NOT_SUPPORTED and the slots called. The probe's slot mode calls the device slots
// nvidia-smi -q calls as it calls them and reports the forwarded ones side by side (here the
// native side has no NVML, so they differ).
func TestSmiChecksScript(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	root := repoRoot(t)
	fake := t.TempDir()
	compileC(t, fake, "nvidia-smi", []string{filepath.Join("testdata", "nvml_smi.c")},
		"-I"+filepath.Join(root, "include"), "-L"+out, "-l:libnvidia-ml.so.1", "-Wl,-rpath,"+out)
	pass := filepath.Join(fake, "pass.sh")
	if err := os.WriteFile(pass, []byte("#!/bin/bash\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	harness := filepath.Join(fake, "harness.sh")
	if err := os.WriteFile(harness, []byte(smiHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", harness, root, logs, pass, s.unix)
	cmd.Env = cleanEnv("PATH=" + fake + ":" + os.Getenv("PATH"))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("smi_checks.sh: %v\n%s", err, b)
	}
	got := string(b)
	for _, want := range []string{
		"RESULT nvidia-smi rc 0 0 diff 0", "RESULT nvidia-smi-L rc 0 0 diff 0", "RESULT nvidia-smi-q-d rc 0 0 diff 0", "RESULT nvidia-smi-topo rc 0 0 diff 0",
		"smi-id 0 size 4096;slots 512 filled 511 distinct 511;slot81 0 same;slot213 0 count 0;rc 0;",
		"smi-trace-default            rc 0; 31 functions, 1 unimplemented (nvmlDeviceGetGridLicensableFeatures_v3 ); slots 81=0 81=2 100=0 213=0 230=3 231=0 232=3 249=0",
		"smi-slots forwarded          DIFFERENT (native: none; vgpu: slot230 3 value untouched past-value untouched;slot231 0 value wrote [0,12]:303030302d3030302d533100 \"0000-000-S1\" past-value untouched;slot249 0 value wrote [0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the script's output lacks %q", want)
		}
	}
	for file, want := range map[string]string{
		"smi-trace-q.calls.txt":         "nvmlDeviceGetFieldValues",
		"smi-trace-q.unimplemented.txt": "nvmlDeviceGetGridLicensableFeatures_v3\n",
		"smi-trace-q.notsupported.txt":  "nvmlDeviceGetBoardId\n",
		"smi-trace-q.slots.txt":         "slot 231 = 0 (the host's reading)",
		"smi-slots.vgpu.txt":            "slot231 0 value wrote [0,12]:303030302d3030302d533100 \"0000-000-S1\" past-value untouched\nslot231-guards a3 untouched\n",
	} {
		if b, err := os.ReadFile(filepath.Join(logs, file)); err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q: %v\n%s", file, want, err, b)
		}
	}
	if t.Failed() {
		t.Logf("%s", got)
	}
}
