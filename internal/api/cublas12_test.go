package api

import (
	"debug/elf"
	"github.com/vgpu/vgpu/internal/testout"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cublas12Libs pairs each CUDA 12 cuBLAS library with its header-derived list and the 13 library
// whose name the llama.cpp import list uses.
var cublas12Libs = []struct {
	lib, lib13 Lib
	list       []string
}{
	{LibCublas12, LibCublas13, cublas12Exports},
	{LibCublasLt12, LibCublasLt13, cublasLt12Exports},
}

// The 12 lists name each export once, have the SONAME as version node, and every name is a row of
// its library; the rows of the 12 libraries are exactly the lists.
func TestCublas12Lists(t *testing.T) {
	for _, c := range cublas12Libs {
		info := c.lib.Info()
		if info.Version != info.SONAME {
			t.Errorf("%s: version node %q, want the SONAME", c.lib, info.Version)
		}
		seen := map[string]bool{}
		for _, n := range c.list {
			if seen[n] {
				t.Errorf("%s: %s listed twice", c.lib, n)
			}
			seen[n] = true
			if !exported(n, c.lib) {
				t.Errorf("%s: %s has no row", c.lib, n)
			}
		}
		for i := range Table {
			f := &Table[i]
			if slices.Contains(f.Libs, c.lib) && !f.Internal && !seen[f.Name] {
				t.Errorf("%s: row %s is not in its list", c.lib, f.Name)
			}
		}
	}
}

// What llama.cpp's ggml-cuda imports from libcublas{,Lt}.so.13 is in the 12 lists too, and served
// for the 12 library by the same implemented row.
func TestCublas12LlamaImports(t *testing.T) {
	dir := referenceDir(t)
	n := 0
	for _, l := range readLines(t, filepath.Join(dir, "symbols", "llama.cpp-ggml-cuda13.imports")) {
		soname, name, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		soname = strings.Trim(soname, "()")
		for _, c := range cublas12Libs {
			if soname != c.lib13.Info().SONAME {
				continue
			}
			n++
			if !slices.Contains(c.list, name) {
				t.Errorf("%s (imported by ggml-cuda from %s) is not in the %s list", name, soname, c.lib)
			}
			served := false
			for i := range Table {
				f := &Table[i]
				if f.Name == name && slices.Contains(f.Libs, c.lib) {
					served = f.Serve != Stub && slices.Contains(f.Libs, c.lib13)
				}
			}
			if !served {
				t.Errorf("%s: %s is not served by its %s row", c.lib, name, c.lib13)
			}
		}
	}
	if n == 0 {
		t.Error("no cuBLAS import in llama.cpp-ggml-cuda13.imports")
	}
}

// Every row of the 12 libraries is exported by the built stub, under the version node named
// after its SONAME.
func TestCublas12StubExports(t *testing.T) {
	var sonames []string
	for _, c := range cublas12Libs {
		sonames = append(sonames, c.lib.Info().SONAME)
	}
	out := testout.Dir(t, sonames...)
	for _, c := range cublas12Libs {
		info := c.lib.Info()
		path := filepath.Join(out, info.SONAME)
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		syms, err := f.DynamicSymbols()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		version := map[string]string{}
		for _, s := range syms {
			if s.Section == elf.SHN_UNDEF || elf.ST_BIND(s.Info) != elf.STB_GLOBAL && elf.ST_BIND(s.Info) != elf.STB_WEAK {
				continue
			}
			if s.HasVersion {
				version[s.Name] = s.Version
			} else {
				version[s.Name] = ""
			}
		}
		rows := 0
		for i := range Table {
			fn := &Table[i]
			if fn.Internal || !slices.Contains(fn.Libs, c.lib) {
				continue
			}
			rows++
			v, ok := version[fn.Name]
			switch {
			case !ok:
				t.Errorf("%s does not export %s", info.SONAME, fn.Name)
			case v != info.Version:
				t.Errorf("%s exports %s under version %q, want %q", info.SONAME, fn.Name, v, info.Version)
			}
		}
		if rows != len(c.list) {
			t.Errorf("%s: %d rows, %d names listed", info.SONAME, rows, len(c.list))
		}
	}
}
