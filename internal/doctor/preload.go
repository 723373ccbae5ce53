package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/vgpu/vgpu/internal/api"
)

const (
	coreName = "libvgpucore.so"
	execName = "libvgpu-exec.so"
)

// vgpuSONAMEs are the libraries vgpu ships a stub for: the table's, and those being added
// (cuBLAS). A file with one of these SONAMEs is vgpu's when libvgpucore.so sits next to it.
func vgpuSONAMEs() []string {
	var s []string
	for _, l := range api.AllLibs() {
		s = append(s, l.Info().SONAME)
	}
	for _, extra := range []string{"libcublas.so.12", "libcublas.so.13", "libcublasLt.so.12", "libcublasLt.so.13"} {
		if !slices.Contains(s, extra) {
			s = append(s, extra)
		}
	}
	return s
}

func isVgpuSONAME(name string) bool { return slices.Contains(vgpuSONAMEs(), name) }

// libKind is what a library is to vgpu.
type libKind int

const (
	kindForeign     libKind = iota // not vgpu's, not one of the SONAMEs vgpu replaces
	kindCore                       // libvgpucore.so
	kindStub                       // a vgpu stub with its core next to it
	kindStubNoCore                 // a vgpu stub without libvgpucore.so next to it
	kindExec                       // libvgpu-exec.so
	kindReplacement                // another vendor's library under a SONAME vgpu replaces (NVIDIA's)
)

func (k libKind) ours() bool {
	return k == kindCore || k == kindStub || k == kindStubNoCore || k == kindExec
}

// classify says what l is; core is the libvgpucore.so it uses (stubs and the core itself).
func (d *doctor) classify(l *elfLib) (kind libKind, core string) {
	if l.SONAME == coreName || l.exportsAny("vgpu_call") {
		return kindCore, l.Path
	}
	if l.SONAME == execName {
		return kindExec, ""
	}
	if !isVgpuSONAME(l.SONAME) {
		return kindForeign, ""
	}
	next := filepath.Join(filepath.Dir(l.Path), coreName)
	if c, err := d.res.read(next); err == nil && c.exportsAny("vgpu_call") {
		// A stub exports no vgpu_* itself; it loads the core from its own folder.
		if len(l.exportsWithPrefix("vgpu_")) == 0 {
			return kindStub, next
		}
	}
	if l.MentionsCore {
		return kindStubNoCore, ""
	}
	return kindReplacement, ""
}

func (l *elfLib) exportsWithPrefix(p string) []string {
	var s []string
	for n := range l.Exports {
		if strings.HasPrefix(n, p) {
			s = append(s, n)
		}
	}
	return s
}

func (k libKind) describe(l *elfLib, core string) string {
	switch k {
	case kindCore:
		return "the vgpu core (" + coreName + ", the one Go runtime of a client process)"
	case kindStub:
		return fmt.Sprintf("vgpu stub %s (core %s)", l.SONAME, core)
	case kindStubNoCore:
		return fmt.Sprintf("vgpu stub %s without %s next to it", l.SONAME, coreName)
	case kindExec:
		return "the vgpu exec shim"
	case kindReplacement:
		return fmt.Sprintf("%s, but not vgpu's (NVIDIA's or another vendor's)", l.SONAME)
	}
	if l.SONAME != "" {
		return "foreign library " + l.SONAME + " (not vgpu's)"
	}
	return "foreign library (not vgpu's)"
}

// preloadEntry is one library the loader preloads.
type preloadEntry struct {
	Raw     string // as written
	Source  string // "LD_PRELOAD" or the ld.so.preload file
	Subject string
	Path    string
	Lib     *elfLib
	Kind    libKind
	Core    string
	id      fileID
}

type fileID struct{ dev, ino uint64 }

func idOf(path string) (fileID, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}

// splitPreload splits an LD_PRELOAD value or ld.so.preload text as the loader does (on ':' and
// white space).
func splitPreload(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ':' || c == ' ' || c == '\t' || c == '\n' })
}

// checkPreload checks every preloaded library: that it exists, is a loadable shared object,
// whose it is, that no vgpu library is there twice, and that its own dependencies resolve.
func (d *doctor) checkPreload() {
	var raw []*preloadEntry
	if v, ok := d.env.lookup("LD_PRELOAD"); ok {
		for _, e := range splitPreload(v) {
			raw = append(raw, &preloadEntry{Raw: e, Source: "LD_PRELOAD"})
		}
	}
	if b, err := os.ReadFile(d.o.PreloadFile); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			line, _, _ = strings.Cut(line, "#")
			for _, e := range splitPreload(line) {
				raw = append(raw, &preloadEntry{Raw: e, Source: d.o.PreloadFile})
			}
		}
	}
	if len(raw) == 0 {
		d.rep.add(OK, "preload", "LD_PRELOAD is not set: programs reach vgpu only through their library path (see the library lines)")
		return
	}

	// Pass 1: what each entry is. The loader maps every preload before any dependency.
	for _, e := range raw {
		e.Subject = "preload " + e.Raw
		if e.Source != "LD_PRELOAD" {
			e.Subject += " (" + e.Source + ")"
		}
		if !d.loadPreload(e) {
			continue
		}
		if _, dup := d.res.preloaded[e.Lib.SONAME]; !dup && e.Lib.SONAME != "" {
			d.res.preloaded[e.Lib.SONAME] = e.Lib
		}
		d.preloads = append(d.preloads, e)
	}

	// The same file twice is harmless (loaded once); two files of one SONAME, or two vgpu cores,
	// are not.
	seen := map[fileID]*preloadEntry{}
	bySONAME := map[string][]*preloadEntry{}
	var unique []*preloadEntry
	for _, e := range d.preloads {
		if first, ok := seen[e.id]; ok {
			d.rep.add(Warn, e.Subject, "listed twice (also as %s): the loader loads it once", first.Raw)
			continue
		}
		seen[e.id] = e
		unique = append(unique, e)
		name := e.Lib.SONAME
		if name == "" {
			name = filepath.Base(e.Path)
		}
		bySONAME[name] = append(bySONAME[name], e)
	}
	for _, e := range unique {
		group := bySONAME[nameOf(e)]
		if len(group) > 1 && group[0] == e {
			var paths []string
			for _, g := range group {
				paths = append(paths, g.Path)
			}
			if e.Kind.ours() || isVgpuSONAME(nameOf(e)) {
				d.rep.add(Fail, "preload", "%s is preloaded twice, from %s: two copies of one library in a process (loaded twice, the first copy wins its symbols and the second keeps its own state); preload it from one folder only",
					nameOf(e), strings.Join(paths, " and "))
			} else {
				d.rep.add(Warn, "preload", "%s is preloaded twice, from %s", nameOf(e), strings.Join(paths, " and "))
			}
		}
	}
	// What shims/common/stub.c does: a stub loads the core only when none is in the process yet
	// (dlopen of its SONAME with RTLD_NOLOAD first), else from its own folder. So stubs from several
	// folders share the first core a stub opens; only cores preloaded themselves are each loaded.
	var preCores []*preloadEntry
	cores := map[fileID][]string{}
	coreDir := map[fileID]string{}
	var coreOrder []fileID
	anyOurs := false
	for _, e := range unique {
		if !e.Kind.ours() {
			continue
		}
		anyOurs = true
		if e.Kind == kindCore {
			preCores = append(preCores, e)
		}
		if e.Core == "" {
			continue
		}
		id, ok := idOf(e.Core)
		if !ok {
			continue
		}
		if _, ok := cores[id]; !ok {
			coreOrder = append(coreOrder, id)
			coreDir[id] = e.Core
		}
		cores[id] = append(cores[id], e.Raw)
	}
	if len(preCores) > 1 {
		var paths []string
		for _, e := range preCores {
			paths = append(paths, e.Path)
		}
		d.rep.add(Fail, "preload", "%d copies of %s are preloaded (%s): each is loaded, a second Go runtime in one process (unsupported: GC stalls, crashes); preload the stubs of one folder and not the core",
			len(preCores), coreName, strings.Join(paths, ", "))
	} else if len(coreOrder) > 1 {
		var parts []string
		same := true
		first, _ := os.ReadFile(coreDir[coreOrder[0]])
		for _, id := range coreOrder {
			parts = append(parts, fmt.Sprintf("%s (for %s)", filepath.Dir(coreDir[id]), strings.Join(cores[id], ", ")))
			if b, err := os.ReadFile(coreDir[id]); err != nil || !bytes.Equal(b, first) {
				same = false
			}
		}
		if same {
			d.rep.add(OK, "preload", "vgpu libraries from %d folders: %s; one core is loaded, the first a stub opens, and every other stub uses it (their %s files are identical)",
				len(coreOrder), strings.Join(parts, "; "), coreName)
		} else {
			d.rep.add(Warn, "preload", "vgpu libraries from %d folders whose %s files differ (other builds): %s; one core is loaded, the first a stub opens, and a stub of another build may refuse it (API table); preload every vgpu library from one folder",
				len(coreOrder), coreName, strings.Join(parts, "; "))
		}
	}
	for _, e := range unique {
		if e.Lib.IsGo && e.Kind != kindCore {
			st := Warn
			if anyOurs {
				st = Fail
			}
			d.rep.add(st, e.Subject, "is a Go library with its own Go runtime: beside %s that is a second Go runtime in one process (unsupported)", coreName)
		}
	}

	// Pass 2: each preloaded library's own dependencies (a missing one is fatal: exit 127).
	for _, e := range unique {
		d.checkNeeded(e.Subject, e.Lib, "the loader refuses to start any program with this LD_PRELOAD (exit 127)")
	}
}

func nameOf(e *preloadEntry) string {
	if e.Lib.SONAME != "" {
		return e.Lib.SONAME
	}
	return filepath.Base(e.Path)
}

// loadPreload finds and reads one entry, printing its line; false when it is unusable.
func (d *doctor) loadPreload(e *preloadEntry) bool {
	path := e.Raw
	if !strings.Contains(path, "/") {
		// A bare name is searched like a DT_NEEDED of a program without RPATH.
		f, searched := d.res.resolve(path, nil)
		if f.Lib == nil {
			d.rep.add(Fail, e.Subject, "missing: a bare name, not found in %s; the loader prints \"cannot be preloaded\" and runs the program without it",
				strings.Join(searched, ", "))
			return false
		}
		path = f.Path
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.rep.add(Fail, e.Subject, "missing: %s does not exist; the loader prints \"cannot be preloaded\" and the program runs without it (remove it from %s or install the file)", path, e.Source)
		return false
	case err != nil:
		d.rep.add(Fail, e.Subject, "cannot be read: %v", err)
		return false
	case fi.IsDir():
		d.rep.add(Fail, e.Subject, "is a folder, not a library")
		return false
	}
	l, err := d.res.read(path)
	if err != nil {
		d.rep.add(Fail, e.Subject, "not a loadable library: %v; the loader ignores it", err)
		return false
	}
	if p := l.classProblem(); p != "" {
		d.rep.add(Fail, e.Subject, "%s", p)
		return false
	}
	e.Path, e.Lib = path, l
	e.id, _ = idOf(path)
	e.Kind, e.Core = d.classify(l)
	switch e.Kind {
	case kindStubNoCore:
		d.rep.add(Fail, e.Subject, "%s: every call fails with a not-initialised error; install %s in %s", e.Kind.describe(l, e.Core), coreName, filepath.Dir(path))
	case kindReplacement:
		d.rep.add(Warn, e.Subject, "%s: programs get it instead of vgpu's", e.Kind.describe(l, e.Core))
	default:
		d.rep.add(OK, e.Subject, "%s", e.Kind.describe(l, e.Core))
	}
	return true
}

// checkNeeded checks that every DT_NEEDED of l resolves, printing a FAIL for each that does not.
func (d *doctor) checkNeeded(subject string, l *elfLib, consequence string) bool {
	ok := true
	for _, n := range l.Needed {
		f, searched := d.res.resolve(n, l)
		if f.Lib == nil {
			d.rep.add(Fail, subject, "needs %s, which is not found (searched %s): %s", n, strings.Join(searched, ", "), consequence)
			ok = false
		}
	}
	return ok
}

// checkLibraryPath says which file a program that loads each vgpu SONAME by name (dlopen, or a
// DT_NEEDED without RPATH) gets in this environment.
func (d *doctor) checkLibraryPath() {
	for _, lib := range api.AllLibs() { // the libraries this build ships a stub for
		name := lib.Info().SONAME
		f, _ := d.res.resolve(name, nil)
		subject := "library " + name
		if f.Lib == nil {
			if name == "libcuda.so.1" || name == "libnvidia-ml.so.1" {
				d.rep.add(Warn, subject, "not found (not preloaded, not on LD_LIBRARY_PATH or in ld.so.cache): a program that loads it by name finds no GPU; preload vgpu's (Ollama: `vgpu enable ollama`; one program: `vgpu run -- PROGRAM`)")
			}
			continue
		}
		kind, core := d.classify(f.Lib)
		switch {
		case kind == kindStub:
			d.rep.add(OK, subject, "%s (%s) is vgpu's", f.Path, f.Where)
		case kind.ours():
			d.rep.add(Fail, subject, "%s (%s) is %s", f.Path, f.Where, kind.describe(f.Lib, core))
		default:
			d.rep.add(Warn, subject, "%s (%s) is not vgpu's: a program that loads %s by name gets that one, not vgpu: preload vgpu's (Ollama: `vgpu enable ollama`; one program: `vgpu run -- PROGRAM`), as a folder on LD_LIBRARY_PATH loses to a program's own copies", f.Path, f.Where, name)
		}
	}
}
