package integration

import (
	"debug/elf"
	"github.com/vgpu/vgpu/internal/testout"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
)

// The cuBLAS stubs (built by make build, not yet in stubNames, which the older tests' preload
// matrix walks).
var cublasStubNames = []string{"libcublas.so.13", "libcublasLt.so.13"}

// TestCublasStubELF checks the two cuBLAS stubs as a consumer's loader sees them: the SONAME, no
// load-time dependency on the core, no Go, exactly the table's exports plus the signal
// interposers, every one under the version node named after the SONAME (docs/ARCHITECTURE.md, decision 6), and
// every export of NVIDIA's library (decision 7) when the reference lists are at hand.
func TestCublasStubELF(t *testing.T) {
	out := outDir(t)
	ref := testout.ReferenceDir()
	for _, name := range cublasStubNames {
		t.Run(name, func(t *testing.T) {
			lib, ok := libByName(name)
			if !ok {
				t.Fatalf("%s is not a library of api.Libs", name)
			}
			info := lib.Info()
			if info.Version != name {
				t.Fatalf("version node %q, want %q", info.Version, name)
			}
			d := readDyn(t, filepath.Join(out, name))
			if d.soname != name {
				t.Errorf("DT_SONAME is %q, want %q", d.soname, name)
			}
			for _, n := range d.needed {
				if strings.Contains(n, "vgpucore") || strings.Contains(n, "cublas") || strings.Contains(n, "cuda") {
					t.Errorf("DT_NEEDED %q: the stub loads the core lazily and needs no CUDA library", n)
				}
			}
			for _, s := range d.sects {
				if s == ".go.buildinfo" || s == ".gopclntab" || s == ".note.go.buildid" || s == ".gosymtab" {
					t.Errorf("section %s: a stub must contain no Go", s)
				}
			}
			if !slices.Contains(d.verdefs, info.Version) {
				t.Errorf("no version definition %q (has %v)", info.Version, d.verdefs)
			}
			rows := map[string]bool{}
			for i := range api.Table {
				f := &api.Table[i]
				if slices.Contains(f.Libs, lib) && !f.Internal {
					rows[f.Name] = true
				}
			}
			for n := range rows {
				if _, ok := d.exports[n]; !ok {
					t.Errorf("table row %s is not exported", n)
				}
			}
			for _, sym := range d.names() {
				e := d.exports[sym]
				for _, p := range goPrefixes {
					if strings.HasPrefix(sym, p) {
						t.Errorf("exports %q: Go runtime / cgo symbols must stay hidden", sym)
					}
				}
				if interposers[sym] {
					if v := versionOf(e); v != "" && v != "GLIBC_2.2.5" || e.hidden {
						t.Errorf("%s has version %q (hidden %v): a reference to it@GLIBC_2.2.5 would not bind", sym, v, e.hidden)
					}
					continue
				}
				if !rows[sym] {
					t.Errorf("exports %s, which is no table row of %s", sym, name)
				}
				if versionOf(e) != info.Version || e.hidden {
					t.Errorf("%s has version %q (hidden %v), want %s@@%s", sym, versionOf(e), e.hidden, sym, info.Version)
				}
				if elf.ST_TYPE(e.Info) != elf.STT_FUNC {
					t.Errorf("%s is %v, want a function", sym, elf.ST_TYPE(e.Info))
				}
			}
			b, err := os.ReadFile(filepath.Join(ref, "symbols", name+".exports"))
			if err != nil {
				t.Skipf("no reference export list (%v); set VGPU_REFERENCE", err)
			}
			n := 0
			for _, l := range strings.Fields(string(b)) {
				sym, node, versioned := strings.Cut(l, "@@")
				if !versioned {
					continue // the node's own entry
				}
				n++
				e, ok := d.exports[sym]
				if !ok {
					t.Errorf("NVIDIA's %s exports %s@@%s, the stub does not", name, sym, node)
				} else if versionOf(e) != node {
					t.Errorf("%s has version %q, NVIDIA's %q", sym, versionOf(e), node)
				}
			}
			if n < 100 {
				t.Errorf("the reference list of %s has only %d versioned exports", name, n)
			}
		})
	}
}

// TestCublasSim runs a program linked against the cuBLAS stubs on the simulated device: handles
// cannot be created there (CUBLAS_STATUS_NOT_SUPPORTED), and what the client answers itself
// (status names and texts, versions, unknown handles, stubs, cuBLASLt's minted handles) works.
func TestCublasSim(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	exe := compileC(t, t.TempDir(), "cublas_sim", []string{filepath.Join("testdata", "cublas_sim.c")},
		"-I"+filepath.Join(repoRoot(t), "include"), "-L"+out, "-l:libcublas.so.13", "-l:libcublasLt.so.13", "-l:libcudart.so.13", "-Wl,-rpath,"+out)
	r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix), exe)
	if r.code != 0 {
		t.Fatalf("cublas_sim: %s", r)
	}
	checkKeyValues(t, r, map[string]string{
		"create":    "15",
		"name":      "CUBLAS_STATUS_NOT_SUPPORTED",
		"string":    "the requested functionality is not supported",
		"ltname":    "CUBLAS_STATUS_INVALID_VALUE",
		"ltversion": "130000", // the sim cannot say: the ABI's version
		"cudart":    "13000",
		"sgemm":     "1", // CUBLAS_STATUS_NOT_INITIALIZED
		"gemmex":    "1",
		"setstream": "1",
		"destroy":   "1",
		"stub":      "15",
		// a minted cuBLASLt descriptor whose create the worker cannot run
		"ltcreate":  "0",
		"ltminted":  "1",
		"ltprop":    "15", // the next cuBLAS call that waits: the create's CUBLAS_STATUS_NOT_SUPPORTED (the line below)
		"ltsync":    "0",  // reported already
		"ltset":     "0",  // async: refused in the worker
		"ltdestroy": "0",
		"ltsync2":   "999", // the setter's refusal, which no cuBLAS call reported: cudaErrorUnknown (the line below; cudaDeviceSynchronize runs as cuCtxSynchronize)
		"ltsync3":   "0",
		"ltprop2":   "15", // its own answer: each failure is reported once
	})
	if !strings.Contains(r.stderr, "cublasSsyrk_v2 is not implemented by vgpu yet") {
		t.Errorf("the stub did not log its name:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "cublasLtMatmulDescCreate failed asynchronously with error 15; reported at cublasLtGetProperty") {
		t.Errorf("no line names the failed create:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "cublasLtMatmulDescSetAttribute failed asynchronously with error 1; reported at cuCtxSynchronize as 999") {
		t.Errorf("no line names the failed setter:\n%s", r.stderr)
	}
}
