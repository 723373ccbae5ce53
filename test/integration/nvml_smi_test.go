package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNVMLForNvidiaSMI: what nvidia-smi asks of libnvidia-ml.so.1, through the real stub and a sim
// server (testdata/nvml_smi.c). The private table (shims/nvml/exporttable.c) is given for
// nvidia-smi's id only, 4096 bytes of slots, every one set; slot 81 gives the same handle as
// nvmlDeviceGetHandleByIndex_v2; the process-list slots say none; slots 230 and 249 are the
// server's readings (the simulated host has no host-side PCIe generation; its sparse mode is 0);
// another slot called with a device answers not-supported, one called without succeeds, neither
// writes. The readings travel each way a parameter can (the simulated device's values), those of
// nvidia-smi -q included: the driver model with one output NULL (NOT_SUPPORTED, as on Linux, not
// a refusal), nvmlDeviceGetSamples in its count-query form (samples NULL, the count holding
// garbage) and its others; a versioned struct of another version is refused in the client without
// touching it; a reading the simulated device does not implement is NVML_ERROR_NOT_SUPPORTED,
// which nvidia-smi prints as N/A. VGPU_LOG=debug names each slot call and marks the unimplemented
// functions.
func TestNVMLForNvidiaSMI(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	root := repoRoot(t)
	exe := compileC(t, t.TempDir(), "nvml_smi", []string{filepath.Join("testdata", "nvml_smi.c")},
		"-I"+filepath.Join(root, "include"), "-L"+out, "-l:libnvidia-ml.so.1", "-Wl,-rpath,"+out)
	r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "VGPU_LOG=debug"), exe)
	if r.code != 0 {
		t.Fatalf("nvml_smi: %s", r)
	}
	checkKeyValues(t, r, map[string]string{
		"null-args":                    "2 2",
		"other-id":                     "13 null",
		"smi-id":                       "0 size 4096",
		"slots":                        "512 filled 511",
		"slot81":                       "0 same",
		"slot81-bad-index":             "2 untouched",
		"slot213":                      "0 count 0 entries untouched",
		"slot230":                      "3 12345",
		"slot249":                      "0 0",
		"slot231":                      "0 0000-000-S1",
		"slot232":                      "3 12345",
		"slot100":                      "0 12345",
		"display-mode":                 "0 0",
		"mig-mode":                     "0 0 0",
		"clocks-event-reasons":         "0 0x1",
		"vbios":                        "0 96.00.00.00.00",
		"temperature-v":                "0 33",
		"temperature-v-other-version":  "25 0xaa",
		"field-values":                 "0 0 36 3",
		"cpu-affinity":                 "0 0x3",
		"topology":                     "0 0",
		"board-id":                     "3 12345",
		"unimplemented":                "3",
		"driver-model":                 "3 3 7 7",
		"validate-inforom":             "0",
		"bbx-flush":                    "0 1767225600000000 1500",
		"grid-licensable":              "0 0 0 cleared",
		"supported-throttle-reasons":   "0 0x1ff",
		"supported-event-reasons":      "0 0x1ff",
		"remapped-rows-v2":             "0 0 0 0 0 0 0",
		"remapped-rows":                "0 0 0 0 0",
		"remapper-histogram":           "0 2560 0 0 0 0",
		"unrepairable-memory":          "0 0",
		"power-profiles":               "0 0x7 0 0",
		"power-profiles-other-version": "25 0xaa",
		"samples-count":                "0 71 type 1",
		"samples":                      "0 71 every-200ms zero",
		"samples-since":                "0 10 next",
		"samples-few":                  "0 5 oldest",
		"samples-zero":                 "2",
		"samples-clock":                "3",
		"samples-future":               "6",
		"samples-null-count":           "2",
		"events":                       "0 set 0 0 3 10 0 2",
	})
	for _, want := range []string{
		"nvmlInternalGetExportTable: unknown table 6c3efec4-8fc9-4e6c-a327-ee696e12f7c5 (returning 13)",
		"nvmlInternalGetExportTable slot 81(0, ",
		"nvmlInternalGetExportTable slot 230(",
		") = 3 (the host's reading)",
		") = 0 (the host's reading)",
		"nvmlInternalGetExportTable slot 231(",
		") = 3 (device reading vgpu does not serve)",
		"nvmlDeviceGetBoardId(",
		"nvmlDeviceGetSamples(",
		"nvmlDeviceGetGridLicensableFeatures_v3([]) = 3 (not implemented by vgpu)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the debug log lacks %q:\n%s", want, r.stderr)
		}
	}
}
