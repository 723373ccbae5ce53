package doctor

import (
	"debug/elf"
	"fmt"
	"slices"
	"strings"
)

// apiOwner attributes an unversioned import to the vgpu library that exports it, by the API's
// name prefix ("" for a symbol of no CUDA API).
func apiOwner(sym string) string {
	switch {
	case strings.HasPrefix(sym, "nvml"):
		return "libnvidia-ml"
	case strings.HasPrefix(sym, "cublasLt"):
		return "libcublasLt"
	case strings.HasPrefix(sym, "cublas"):
		return "libcublas"
	case strings.HasPrefix(sym, "cuda"), strings.HasPrefix(sym, "__cuda"):
		return "libcudart"
	case len(sym) > 2 && strings.HasPrefix(sym, "cu") && sym[2] >= 'A' && sym[2] <= 'Z':
		return "libcuda"
	}
	return ""
}

// stem is a SONAME without its ".so..." suffix ("libcudart.so.13" -> "libcudart").
func stem(soname string) string {
	s, _, _ := strings.Cut(soname, ".so")
	return s
}

// maxListed is how many missing symbols a line names before it only counts.
const maxListed = 10

// checkConsumer checks that a library like libggml-cuda.so would load with RTLD_NOW in this
// environment: every DT_NEEDED resolves, and every symbol it imports from a vgpu SONAME (with
// the version node it was linked against) is exported by the file the loader would pick.
func (d *doctor) checkConsumer(path string) {
	subject := "consumer " + path
	c, err := d.res.read(path)
	if err != nil {
		d.rep.add(Fail, subject, "cannot read: %v", err)
		return
	}
	if p := c.classProblem(); p != "" {
		d.rep.add(Fail, subject, "%s", p)
		return
	}
	// Which file each vgpu DT_NEEDED resolves to.
	type dep struct {
		name string
		f    found
		kind libKind
	}
	var ours []dep
	allFound := true
	for _, n := range c.Needed {
		f, searched := d.res.resolve(n, c)
		if f.Lib == nil {
			d.rep.add(Fail, subject, "needs %s, which is not found (searched %s): dlopen fails", n, strings.Join(searched, ", "))
			allFound = false
			continue
		}
		if !isVgpuSONAME(n) && !isVgpuSONAME(f.Lib.SONAME) {
			continue
		}
		kind, core := d.classify(f.Lib)
		switch kind {
		case kindStub:
			d.rep.add(OK, subject, "%s -> %s (%s, vgpu's)", n, f.Path, f.Where)
		case kindStubNoCore, kindCore, kindExec:
			d.rep.add(Fail, subject, "%s -> %s (%s): %s", n, f.Path, f.Where, kind.describe(f.Lib, core))
		default:
			d.rep.add(Warn, subject, "%s -> %s (%s) is not vgpu's: this consumer would use that library, not vgpu (preload vgpu's %s: preloads win over RPATH and bundled copies)",
				n, f.Path, f.Where, n)
		}
		ours = append(ours, dep{n, f, kind})
	}

	// Versioned imports: each must be defined, with that version, by the file of that SONAME.
	byLib := map[string]*dep{}
	for i := range ours {
		byLib[ours[i].name] = &ours[i]
	}
	type miss struct {
		syms  []string
		total int
	}
	missing := map[string]*miss{}
	var order []string
	note := func(lib, sym string) {
		m, ok := missing[lib]
		if !ok {
			m = &miss{}
			missing[lib] = m
			order = append(order, lib)
		}
		m.total++
		if len(m.syms) < maxListed {
			m.syms = append(m.syms, sym)
		}
	}
	checked := map[string]int{}
	versionsChecked := map[string]bool{}
	for _, s := range c.Imports {
		if elf.ST_BIND(s.Info) == elf.STB_WEAK {
			continue // RTLD_NOW leaves a missing weak reference NULL
		}
		if s.Library != "" && s.Version != "" {
			dp, ok := byLib[s.Library]
			if !ok || dp.kind != kindStub {
				continue // not ours, or already reported as not vgpu's
			}
			lib := dp.f.Lib
			key := s.Library + "@" + s.Version
			if !versionsChecked[key] {
				versionsChecked[key] = true
				if len(lib.VersionDefs) > 0 && !lib.VersionDefs[s.Version] {
					d.rep.add(Fail, subject, "needs version node %s of %s, which %s does not define: dlopen fails with \"version `%s' not found\"",
						s.Version, s.Library, dp.f.Path, s.Version)
				}
			}
			checked[s.Library]++
			if !lib.defines(s.Name, s.Version) {
				note(s.Library, s.Name+"@"+s.Version)
			}
			continue
		}
		// Unversioned: bound to whichever loaded library exports it first; check that one of the
		// vgpu libraries this consumer needs (or a preload) exports it.
		owner := apiOwner(s.Name)
		if owner == "" {
			continue
		}
		var libName string
		provided := false
		for _, dp := range ours {
			if stem(dp.name) == owner && libName == "" {
				libName = dp.name
			}
			if dp.kind == kindStub && dp.f.Lib.defines(s.Name, "") {
				provided = true
			}
		}
		for _, p := range d.preloads {
			if p.Lib.defines(s.Name, "") {
				provided = true
			}
		}
		if libName == "" {
			continue // the consumer does not link that API's library; something else provides it
		}
		if dp := byLib[libName]; dp == nil || dp.kind != kindStub {
			continue
		}
		checked[libName]++
		if !provided {
			note(libName, s.Name)
		}
	}
	for _, lib := range order {
		m := missing[lib]
		more := ""
		if m.total > len(m.syms) {
			more = fmt.Sprintf(" and %d more", m.total-len(m.syms))
		}
		d.rep.add(Fail, subject, "%s (%s) lacks %d of the %d symbols this consumer imports from it: %s%s; dlopen with RTLD_NOW fails (Ollama drops that error silently)",
			lib, byLib[lib].f.Path, m.total, checked[lib], strings.Join(m.syms, ", "), more)
	}
	for _, dp := range ours {
		if dp.kind == kindStub && missing[dp.name] == nil && checked[dp.name] > 0 {
			d.rep.add(OK, subject, "all %d symbols imported from %s are exported by %s", checked[dp.name], dp.name, dp.f.Path)
		}
	}
	if len(ours) == 0 && allFound {
		d.rep.add(Warn, subject, "links none of vgpu's libraries (%s)", strings.Join(slices.Compact(c.Needed), ", "))
	}
}
