package api

import (
	"bufio"
	"github.com/vgpu/vgpu/internal/testout"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// referenceDir is the folder of NVIDIA facts (symbols/*.exports), testout.ReferenceDir; the
// test skips without its export lists.
func referenceDir(t *testing.T) string {
	dir := testout.ReferenceDir()
	if _, err := os.Stat(filepath.Join(dir, "symbols")); err != nil {
		t.Skipf("no reference export lists (%v); set VGPU_REFERENCE", err)
	}
	return dir
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// exported reports whether a table row exports name from lib.
func exported(name string, lib Lib) bool {
	for i := range Table {
		f := &Table[i]
		if f.Name != name || f.Internal {
			continue
		}
		for _, l := range f.Libs {
			if l == lib {
				return true
			}
		}
	}
	return false
}

// Every symbol of the real libraries is exported by the stub of that library, under the same
// version node, and the Go lists are the reference lists.
func TestExportsCoverReference(t *testing.T) {
	dir := referenceDir(t)
	for _, c := range []struct {
		file string
		lib  Lib
		list []string
	}{
		{"libcuda.so.1.exports", LibCuda, cudaExports},
		{"libnvidia-ml.so.1.exports", LibNVML, nvmlExports},
		{"libcudart.so.13.exports", LibCudart13, cudart13Exports},
	} {
		version := c.lib.Info().Version
		var names []string
		for _, l := range readLines(t, filepath.Join(dir, "symbols", c.file)) {
			name, node, versioned := strings.Cut(l, "@@")
			switch {
			case versioned && node != version:
				t.Errorf("%s: %s is under version node %s, the stub's is %q", c.file, name, node, version)
			case !versioned && version != "" && name == version:
				continue // the version node's own entry (nm lists it as an absolute symbol)
			case !versioned && version != "":
				t.Errorf("%s: %s has no version, but every export of %s should", c.file, name, c.lib)
			}
			names = append(names, name)
			if !exported(name, c.lib) {
				t.Errorf("%s exports %s, the table does not", c.lib, name)
			}
		}
		if strings.Join(names, " ") != strings.Join(c.list, " ") {
			t.Errorf("the Go list of %s differs from %s", c.lib, c.file)
		}
	}
}

func TestCudart12List(t *testing.T) {
	seen := map[string]bool{}
	in13 := map[string]bool{}
	for _, n := range cudart13Exports {
		in13[n] = true
	}
	shared := 0
	for _, n := range cudart12Exports {
		if seen[n] {
			t.Errorf("cudart12Exports lists %s twice", n)
		}
		seen[n] = true
		if in13[n] {
			shared++
		}
		if !exported(n, LibCudart12) {
			t.Errorf("libcudart.so.12 does not export %s", n)
		}
	}
	if !sort.StringsAreSorted(cudart12Exports) {
		t.Error("cudart12Exports is not sorted")
	}
	// gen/cmd/apidata derives the list (its comment's numbers too); most of it is 13's.
	if shared < len(cudart12Exports)*9/10 {
		t.Errorf("cudart 12: only %d of %d names shared with 13", shared, len(cudart12Exports))
	}
	for _, n := range []string{"cudaGetDeviceProperties", "cudaGetDeviceProperties_v2", "cudaStreamGetCaptureInfo_v2_ptsz",
		"cudaMemcpy_ptds", "cudaLaunchKernel_ptsz", "__cudaRegisterFatBinary", "__cudaPushCallConfiguration", "cudaGetExportTable"} {
		if !seen[n] {
			t.Errorf("cudart12Exports lacks %s", n)
		}
	}
}

// No library exports one name twice; no row is left without a library it is exported from.
func TestNoDuplicateExports(t *testing.T) {
	type export struct {
		name string
		lib  Lib
	}
	seen := map[export]int{}
	for i := range Table {
		for _, l := range Table[i].Libs {
			k := export{Table[i].Name, l}
			if j, dup := seen[k]; dup {
				t.Errorf("%s is exported twice by %s (rows %d and %d)", k.name, l, j, i)
			}
			seen[k] = i
		}
	}
	if err := Validate(); err != nil {
		t.Error(err)
	}
}

// Stub rows yield to explicit rows of the same name and library, and are generated only for
// names of the export lists.
func TestStubRows(t *testing.T) {
	listed := map[string]bool{}
	for _, l := range [][]string{cudaExports, nvmlExports, cudart12Exports, cudart13Exports, cublasExports, cublasLtExports, cublas12Exports, cublasLt12Exports} {
		for _, n := range l {
			listed[n] = true
		}
	}
	explicit := 0
	for _, part := range explicitParts() {
		explicit += len(part)
	}
	for i := explicit; i < len(Table); i++ {
		f := &Table[i]
		if f.Serve != Stub || f.Manual || !listed[f.Name] {
			t.Errorf("row %d (%s) after the explicit rows is not a Stub row of a listed export", i, f.Name)
		}
	}
	// A row for one cudart library leaves the other one to a stub row of the same name.
	rows := stubRows([]Func{{Name: "cudaMemAdvise", Libs: rt13}, {Name: "cudaMalloc", Libs: rt}})
	var libs [][]Lib
	for _, r := range rows {
		switch r.Name {
		case "cudaMemAdvise":
			libs = append(libs, r.Libs)
		case "cudaMalloc":
			t.Errorf("cudaMalloc has a row for both cudart libraries, yet got a stub row for %v", r.Libs)
		}
	}
	if len(libs) != 1 || len(libs[0]) != 1 || libs[0][0] != LibCudart12 {
		t.Errorf("cudaMemAdvise with a row for libcudart.so.13 only: stub rows for %v, want one for libcudart.so.12", libs)
	}
	for name, ret := range stubRet {
		_, f, ok := Lookup(name)
		if !ok {
			t.Errorf("stubRet names %s, which has no row", name)
		} else if f.RetType() != ret {
			t.Errorf("stubRet[%s] = %q, but its row returns %q", name, ret, f.RetType())
		}
	}
}
