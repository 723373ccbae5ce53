package doctor

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// elfLib is what the doctor needs to know of one shared object, read with debug/elf.
type elfLib struct {
	Path    string
	Class   elf.Class
	Machine elf.Machine
	Type    elf.Type
	SONAME  string
	Needed  []string
	RPath   []string // DT_RPATH, $ORIGIN not expanded
	RunPath []string // DT_RUNPATH
	// Exports: defined global/weak dynamic symbols by name; each with the version names it is
	// defined under ("" for an unversioned definition).
	Exports map[string][]export
	// VersionDefs: the version nodes the object defines (its own SONAME node included).
	VersionDefs  map[string]bool
	Imports      []elf.Symbol // undefined dynamic symbols (weak ones included)
	IsGo         bool         // carries a Go runtime (a .go.buildinfo section)
	MentionsCore bool         // contains the string "libvgpucore.so": a vgpu stub loads it
}

type export struct {
	Version string
	Hidden  bool // a non-default version (foo@V rather than foo@@V)
}

// nativeClassMachine is the ELF class and machine of a program on this machine.
func nativeClassMachine() (elf.Class, elf.Machine) {
	switch runtime.GOARCH {
	case "amd64":
		return elf.ELFCLASS64, elf.EM_X86_64
	case "arm64":
		return elf.ELFCLASS64, elf.EM_AARCH64
	case "386":
		return elf.ELFCLASS32, elf.EM_386
	case "ppc64le":
		return elf.ELFCLASS64, elf.EM_PPC64
	}
	return elf.ELFCLASSNONE, elf.EM_NONE
}

var errNotELF = errors.New("not an ELF file")

// readELF reads the dynamic section and symbols of path.
func readELF(path string) (*elfLib, error) {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%w (%v)", errNotELF, fe)
		}
		return nil, err
	}
	defer f.Close()
	l := &elfLib{Path: path, Class: f.Class, Machine: f.Machine, Type: f.Type,
		Exports: map[string][]export{}, VersionDefs: map[string]bool{}}
	if s, _ := f.DynString(elf.DT_SONAME); len(s) > 0 {
		l.SONAME = s[0]
	}
	l.Needed, _ = f.DynString(elf.DT_NEEDED)
	for _, s := range must(f.DynString(elf.DT_RPATH)) {
		l.RPath = append(l.RPath, filepath.SplitList(s)...)
	}
	for _, s := range must(f.DynString(elf.DT_RUNPATH)) {
		l.RunPath = append(l.RunPath, filepath.SplitList(s)...)
	}
	if vs, err := f.DynamicVersions(); err == nil {
		for _, v := range vs {
			l.VersionDefs[v.Name] = true
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("%s: reading dynamic symbols: %w", path, err)
	}
	for _, s := range syms {
		bind := elf.ST_BIND(s.Info)
		if s.Name == "" || (bind != elf.STB_GLOBAL && bind != elf.STB_WEAK) {
			continue
		}
		if s.Section == elf.SHN_UNDEF {
			l.Imports = append(l.Imports, s)
			continue
		}
		if elf.ST_TYPE(s.Info) == elf.STT_OBJECT && s.Section == elf.SHN_ABS && l.VersionDefs[s.Name] {
			continue // the marker symbol of a version node
		}
		l.Exports[s.Name] = append(l.Exports[s.Name], export{Version: s.Version, Hidden: s.HasVersion && s.VersionIndex.IsHidden()})
	}
	l.IsGo = f.Section(".go.buildinfo") != nil
	l.MentionsCore = fileContains(path, []byte("libvgpucore.so\x00"))
	return l, nil
}

func must(v []string, _ error) []string { return v }

// fileContains reports whether the file holds needle (read in chunks; shared objects are small).
func fileContains(path string, needle []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	keep := len(needle) - 1
	n := 0
	for {
		m, err := f.Read(buf[n:])
		n += m
		if bytes.Contains(buf[:n], needle) {
			return true
		}
		if err != nil { // io.EOF included
			return false
		}
		if n > keep {
			copy(buf, buf[n-keep:n])
			n = keep
		}
	}
}

// defines reports whether l exports name in a way a reference with version ver ("" = an
// unversioned reference) binds to, as glibc's loader decides.
func (l *elfLib) defines(name, ver string) bool {
	for _, e := range l.Exports[name] {
		switch {
		case ver == "":
			// An unversioned reference takes the default (non-hidden) definition.
			if !e.Hidden {
				return true
			}
		case len(l.VersionDefs) == 0:
			return true // an object without version information satisfies any version
		case e.Version == ver:
			return true
		}
	}
	return false
}

// exportsAny reports whether l defines a symbol of that name at all, whatever its version.
func (l *elfLib) exportsAny(name string) bool { return len(l.Exports[name]) > 0 }

// classProblem says why l cannot be loaded into a native program ("" when it can).
func (l *elfLib) classProblem() string {
	class, machine := nativeClassMachine()
	switch {
	case l.Type != elf.ET_DYN:
		return fmt.Sprintf("not a shared object (ELF type %v)", l.Type)
	case class != elf.ELFCLASSNONE && l.Class != class:
		return fmt.Sprintf("wrong ELF class %v (programs here are %v): the loader ignores it", l.Class, class)
	case machine != elf.EM_NONE && l.Machine != machine:
		return fmt.Sprintf("built for %v, not %v: the loader ignores it", l.Machine, machine)
	}
	return ""
}

// expandDSTs expands $ORIGIN (the folder of the object, origin), $LIB and $PLATFORM in a
// DT_RPATH/DT_RUNPATH entry, as the loader does.
func expandDSTs(dir, origin string) string {
	lib, platform := "lib", runtime.GOARCH
	if runtime.GOARCH == "amd64" {
		lib, platform = "lib/x86_64-linux-gnu", "x86_64"
	}
	r := strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin, "${LIB}", lib, "$LIB", lib,
		"${PLATFORM}", platform, "$PLATFORM", platform)
	return r.Replace(dir)
}
