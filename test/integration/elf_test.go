package integration

import (
	"debug/elf"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
)

// The signal interposers every stub exports besides the table's functions (shims/common/stub.c).
var interposers = map[string]bool{"sigaction": true, "signal": true, "bsd_signal": true}

// Prefixes of symbols that only a Go runtime (or cgo glue) defines. None may be visible from a
// stub, and none from the core, so that no two Go libraries of a process can ever clash.
var goPrefixes = []string{"crosscall", "_cgo_", "x_cgo_", "_cgoexp_", "runtime.", "runtime/", "go:", "go.", "type:", "type.", "_rt0_", "main.", "sync.", "syscall.", "os."}

// export is one defined, visible symbol of a library's dynamic symbol table.
type export struct {
	elf.Symbol
	hidden bool // a non-default version (name@ver rather than name@@ver)
}

type dynLib struct {
	path    string
	soname  string
	needed  []string
	exports map[string]export
	verdefs []string
	sects   []string
}

// readDyn reads what a consumer's dynamic loader sees of a library.
func readDyn(t *testing.T, path string) *dynLib {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	d := &dynLib{path: path, exports: map[string]export{}}
	if s, err := f.DynString(elf.DT_SONAME); err != nil {
		t.Fatalf("%s: DT_SONAME: %v", path, err)
	} else if len(s) == 1 {
		d.soname = s[0]
	} else {
		t.Errorf("%s: %d DT_SONAME entries %v, want 1", path, len(s), s)
	}
	if d.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		t.Fatalf("%s: DT_NEEDED: %v", path, err)
	}
	vers, _ := f.DynamicVersions() // an error: no version definitions
	verNames := map[string]bool{}
	for _, v := range vers {
		d.verdefs = append(d.verdefs, v.Name)
		verNames[v.Name] = true
	}
	for _, s := range f.Sections {
		d.sects = append(d.sects, s.Name)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatalf("%s: dynamic symbols: %v", path, err)
	}
	for _, s := range syms {
		bind := elf.ST_BIND(s.Info)
		if s.Section == elf.SHN_UNDEF || (bind != elf.STB_GLOBAL && bind != elf.STB_WEAK) {
			continue
		}
		vis := elf.ST_VISIBILITY(s.Other)
		if vis == elf.STV_HIDDEN || vis == elf.STV_INTERNAL {
			continue
		}
		// The absolute symbols a version definition adds (named after the version node).
		if s.Section == elf.SHN_ABS && verNames[s.Name] && s.Value == 0 {
			continue
		}
		e := export{Symbol: s, hidden: s.HasVersion && s.VersionIndex.IsHidden()}
		if prev, dup := d.exports[s.Name]; dup {
			t.Errorf("%s: %s exported twice (versions %q and %q)", path, s.Name, prev.Version, s.Version)
		}
		d.exports[s.Name] = e
	}
	return d
}

func (d *dynLib) names() []string {
	var n []string
	for k := range d.exports {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// versionOf is how a symbol's version reads to the loader: "" for an unversioned (or base
// version, VER_NDX_GLOBAL) definition.
func versionOf(e export) string {
	if !e.HasVersion || e.VersionIndex.Index() <= 1 {
		return ""
	}
	return e.Version
}

func libByName(soname string) (api.Lib, bool) {
	for _, l := range api.AllLibs() {
		if l.Info().SONAME == soname {
			return l, true
		}
	}
	return 0, false
}

// TestStubELF checks what the dynamic loader and a consumer's link see of each stub: its
// SONAME, that it does not need the core at load time, that it exports exactly the table's
// functions (under the right version node) plus the signal interposers, and nothing of Go.
func TestStubELF(t *testing.T) {
	out := outDir(t)
	for _, name := range stubNames {
		t.Run(name, func(t *testing.T) {
			lib, ok := libByName(name)
			if !ok {
				t.Fatalf("%s is not a library of api.Libs", name)
			}
			info := lib.Info()
			d := readDyn(t, filepath.Join(out, name))

			if d.soname != name {
				t.Errorf("DT_SONAME is %q, want %q (its file name)", d.soname, name)
			}
			// The core is loaded lazily by dlopen from the stub's own folder (docs/ARCHITECTURE.md, decision 4):
			// a DT_NEEDED on it would load a Go runtime into every process that merely links.
			for _, n := range d.needed {
				if strings.Contains(n, "vgpucore") || strings.Contains(n, "libgo") {
					t.Errorf("DT_NEEDED %q: the stub must load the core lazily, not at load time", n)
				}
			}
			for _, s := range d.sects {
				if s == ".go.buildinfo" || s == ".gopclntab" || s == ".note.go.buildid" || s == ".gosymtab" {
					t.Errorf("section %s: a stub must contain no Go", s)
				}
			}

			for _, sym := range d.names() {
				for _, p := range goPrefixes {
					if strings.HasPrefix(sym, p) {
						t.Errorf("exports %q: Go runtime / cgo symbols must stay hidden (docs/ARCHITECTURE.md, decisions 1 and 6)", sym)
					}
				}
			}

			// The interposers: sigaction and signal must bind for a consumer's
			// sigaction@GLIBC_2.2.5 reference, so they are unversioned (base) or GLIBC_2.2.5.
			for _, sym := range []string{"sigaction", "signal"} {
				e, ok := d.exports[sym]
				if !ok {
					t.Errorf("does not export %s: host signal handlers would not get SA_ONSTACK (docs/ARCHITECTURE.md, decision 3)", sym)
					continue
				}
				if e.hidden {
					t.Errorf("%s is a hidden (non-default) version %q: references would not bind to it", sym, e.Version)
				}
				if v := versionOf(e); v != "" && v != "GLIBC_2.2.5" {
					t.Errorf("%s has version %q: a reference to sigaction@GLIBC_2.2.5 would not bind to it", sym, v)
				}
				if elf.ST_TYPE(e.Info) != elf.STT_FUNC {
					t.Errorf("%s is %v, want a function", sym, elf.ST_TYPE(e.Info))
				}
			}

			// Every row of the table that names this library is exported, with its version.
			rows := map[string]bool{}
			for i := range api.Table {
				f := &api.Table[i]
				if !slices.Contains(f.Libs, lib) {
					continue
				}
				if f.Internal { // a vgpu-only server call: exported by no library
					if _, ok := d.exports[f.Name]; ok {
						t.Errorf("exports %s, an internal row (a vgpu-only call no consumer may see)", f.Name)
					}
					continue
				}
				rows[f.Name] = true
				e, ok := d.exports[f.Name]
				if !ok {
					t.Errorf("table row %s (%v) is not exported", f.Name, f.Serve)
					continue
				}
				if elf.ST_TYPE(e.Info) != elf.STT_FUNC {
					t.Errorf("%s is %v, want a function", f.Name, elf.ST_TYPE(e.Info))
				}
				if got := versionOf(e); got != info.Version {
					t.Errorf("%s has version %q, want %q", f.Name, got, info.Version)
				}
				if e.hidden {
					t.Errorf("%s@%s is a hidden version: it must be the default (%s@@%s)", f.Name, e.Version, f.Name, e.Version)
				}
			}
			if len(rows) == 0 {
				t.Errorf("api.Table has no row for %s", name)
			}
			// ... and nothing else is.
			for _, sym := range d.names() {
				if !rows[sym] && !interposers[sym] {
					e := d.exports[sym]
					t.Errorf("exports %s (version %q) which is no table row of %s", sym, versionOf(e), name)
				}
			}

			// Version conventions (docs/ARCHITECTURE.md, decision 6).
			switch info.Version {
			case "":
				for _, sym := range d.names() {
					if e := d.exports[sym]; versionOf(e) != "" && !interposers[sym] {
						t.Errorf("%s has version %q: %s exports are unversioned", sym, versionOf(e), name)
					}
				}
			default:
				if !slices.Contains(d.verdefs, info.Version) {
					t.Errorf("no version definition %q (has %v)", info.Version, d.verdefs)
				}
				for _, sym := range d.names() {
					if strings.HasPrefix(sym, "cuda") {
						if e := d.exports[sym]; versionOf(e) != info.Version || e.hidden {
							t.Errorf("%s has version %q (hidden %v), want %s@@%s", sym, versionOf(e), e.hidden, sym, info.Version)
						}
					}
				}
			}
		})
	}
}

// TestCoreELF checks that the core exports its three entry points and nothing else, above all
// none of Go's own symbols.
func TestCoreELF(t *testing.T) {
	out := outDir(t)
	d := readDyn(t, filepath.Join(out, coreName))
	if d.soname != coreName {
		t.Errorf("DT_SONAME is %q, want %q (the stubs find an already loaded core by it)", d.soname, coreName)
	}
	got := d.names()
	want := []string{"vgpu_attach", "vgpu_call", "vgpu_core_pid", "vgpu_stats"}
	if !slices.Equal(got, want) {
		t.Errorf("exports %v, want exactly %v", got, want)
	}
	for _, sym := range got {
		for _, p := range goPrefixes {
			if strings.HasPrefix(sym, p) {
				t.Errorf("exports %q: Go's symbols must stay local (build/core.map)", sym)
			}
		}
	}
	for _, fn := range []string{"vgpu_attach", "vgpu_call"} {
		if e, ok := d.exports[fn]; ok && elf.ST_TYPE(e.Info) != elf.STT_FUNC {
			t.Errorf("%s is %v, want a function", fn, elf.ST_TYPE(e.Info))
		}
	}
	if e, ok := d.exports["vgpu_core_pid"]; ok && elf.ST_TYPE(e.Info) != elf.STT_OBJECT {
		t.Errorf("vgpu_core_pid is %v, want an object (the stubs read the pid)", elf.ST_TYPE(e.Info))
	}
}
