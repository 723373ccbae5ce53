package main

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// pfn is one PFN typedef line of gen/decls: PFN_<name>_v<version>[_<variant>].
type pfn struct {
	name    string
	version int
	variant string // "", "ptds" or "ptsz"
}

func readPFNs(files ...string) ([]pfn, error) {
	var out []pfn
	for _, file := range files {
		lines, err := readLines(file)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 2 || len(f) > 3 {
				return nil, fmt.Errorf("%s: %q: want name, version and an optional ptds or ptsz", file, l)
			}
			v, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", file, l, err)
			}
			p := pfn{name: f[0], version: v}
			if len(f) == 3 {
				if f[2] != "ptds" && f[2] != "ptsz" {
					return nil, fmt.Errorf("%s: %q: variant %q", file, l, f[2])
				}
				p.variant = f[2]
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// procVersion and procSymbol mirror internal/api's ProcVersion and ProcSymbol.
type procVersion struct {
	since  int
	export string
}

type procSymbol struct {
	name      string
	versions  []procVersion
	perThread []procVersion
}

// deriveProcAddr applies procaddr_data.go's rule: a name's versions in ascending order are
// served by <name>, <name>_v2, <name>_v3, ...; a per-thread variant of version V by the export
// that serves V plus _ptds or _ptsz. Sorted by name (byte order).
func deriveProcAddr(pfns []pfn) ([]procSymbol, error) {
	legacy := map[string]map[int]bool{}
	perThread := map[string]map[pfn]bool{}
	for _, p := range pfns {
		if p.variant == "" {
			if legacy[p.name] == nil {
				legacy[p.name] = map[int]bool{}
			}
			legacy[p.name][p.version] = true
		} else {
			if perThread[p.name] == nil {
				perThread[p.name] = map[pfn]bool{}
			}
			perThread[p.name][p] = true
		}
	}
	var names []string
	for n := range legacy {
		names = append(names, n)
	}
	for n := range perThread {
		if legacy[n] == nil {
			return nil, fmt.Errorf("%s has per-thread typedefs but no legacy one", n)
		}
	}
	sort.Strings(names)
	var out []procSymbol
	for _, n := range names {
		s := procSymbol{name: n}
		var vs []int
		for v := range legacy[n] {
			vs = append(vs, v)
		}
		sort.Ints(vs)
		for i, v := range vs {
			e := n
			if i > 0 {
				e = fmt.Sprintf("%s_v%d", n, i+1)
			}
			s.versions = append(s.versions, procVersion{v, e})
		}
		var pts []pfn
		for p := range perThread[n] {
			pts = append(pts, p)
		}
		sort.Slice(pts, func(i, j int) bool {
			if pts[i].version != pts[j].version {
				return pts[i].version < pts[j].version
			}
			return pts[i].variant < pts[j].variant
		})
		for _, p := range pts {
			serving := ""
			for _, v := range s.versions {
				if v.since <= p.version {
					serving = v.export
				}
			}
			if serving == "" {
				return nil, fmt.Errorf("%s: a %s variant of version %d, older than every legacy one", n, p.variant, p.version)
			}
			s.perThread = append(s.perThread, procVersion{p.version, serving + "_" + p.variant})
		}
		out = append(out, s)
	}
	return out, nil
}

func (s procSymbol) goRow() string {
	list := func(vs []procVersion) string {
		var parts []string
		for _, v := range vs {
			parts = append(parts, fmt.Sprintf("{%d, %q}", v.since, v.export))
		}
		return "[]ProcVersion{" + strings.Join(parts, ", ") + "}"
	}
	pt := "nil"
	if len(s.perThread) > 0 {
		pt = list(s.perThread)
	}
	return fmt.Sprintf("\t{%q, %s, %s},\n", s.name, list(s.versions), pt)
}

func procAddrGo() ([]byte, error) {
	mainFiles := []string{driverDecls + "/cudaTypedefs.txt", driverDecls + "/cudaProfilerTypedefs.txt"}
	interopFiles := []string{interopDecls + "/cudaGLTypedefs.txt", interopDecls + "/cudaEGLTypedefs.txt", interopDecls + "/cudaVDPAUTypedefs.txt"}
	excludeFile := manual + "/procaddr_exclude.txt"

	pfns, err := readPFNs(mainFiles...)
	if err != nil {
		return nil, err
	}
	main, err := deriveProcAddr(pfns)
	if err != nil {
		return nil, err
	}
	pfns, err = readPFNs(interopFiles...)
	if err != nil {
		return nil, err
	}
	interop, err := deriveProcAddr(pfns)
	if err != nil {
		return nil, err
	}
	excluded, err := readNames(excludeFile)
	if err != nil {
		return nil, err
	}
	exclude := set(excluded)

	// Every export named must be one of the real libcuda.so.1.
	exports, err := readExports(driverExports, "libcuda.so.1", "")
	if err != nil {
		return nil, err
	}
	exported := set(exports)
	served := map[string]bool{}
	var kept [2][]procSymbol // main, interop
	for k, part := range [][]procSymbol{main, interop} {
		for _, s := range part {
			if exclude[s.name] {
				delete(exclude, s.name)
				continue
			}
			if served[s.name] {
				return nil, fmt.Errorf("%s is typedef'd twice", s.name)
			}
			served[s.name] = true
			for _, v := range append(append([]procVersion(nil), s.versions...), s.perThread...) {
				if !exported[v.export] {
					return nil, fmt.Errorf("%s at %d: %s is no export of libcuda.so.1 (%s/libcuda.so.1.txt); exclude the name in %s if the driver does not resolve it",
						s.name, v.since, v.export, driverExports, excludeFile)
				}
			}
			kept[k] = append(kept[k], s)
		}
	}
	for n := range exclude {
		return nil, fmt.Errorf("%s excludes %s, which no typedef names", excludeFile, n)
	}

	// The older release's typedefs: a name it has that the newer lacks would go unserved.
	pfns, err = readPFNs(olderDecls+"/cudaTypedefs.txt", olderDecls+"/cudaProfilerTypedefs.txt")
	if err != nil {
		return nil, err
	}
	older, err := deriveProcAddr(pfns)
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, s := range older {
		if !served[s.name] {
			dropped = append(dropped, s.name)
		}
	}
	if len(dropped) > 0 {
		return nil, fmt.Errorf("%s/cudaTypedefs.txt has %s, which %s lacks: decide whether to serve them", olderDecls, strings.Join(dropped, ", "), driverDecls)
	}

	excludedText := strings.Join(excluded, ", ")
	var b bytes.Buffer
	b.WriteString(header(driverDecls + "/cudaTypedefs.txt, cudaProfilerTypedefs.txt; " + interopDecls +
		"/cudaGLTypedefs.txt, cudaEGLTypedefs.txt, cudaVDPAUTypedefs.txt; " + excludeFile + "; checked against " +
		driverExports + "/libcuda.so.1.txt and " + olderDecls + "/cudaTypedefs.txt"))
	b.WriteString(comment("", fmt.Sprintf(`procAddrData is what cuGetProcAddress knows: every base name of the
driver API, the CUDA version each of its ABI variants appeared in, and the libcuda.so.1 export
that serves it.

Derived from the names of the PFN_<name>_v<version>[_ptds|_ptsz] typedefs of %[1]s's
cudaTypedefs.h and cudaProfilerTypedefs.h (%[2]s/cudaTypedefs.txt, cudaProfilerTypedefs.txt;
%[3]s's cudaTypedefs.h adds nothing): a name's versions in ascending order are served by
<name>, <name>_v2, <name>_v3, ...; a per-thread variant introduced in version V is the export
that serves V plus _ptds or _ptsz. Every name so derived is an export of the real libcuda.so.1
(%[4]s/libcuda.so.1.txt; gen/cmd/apidata checks it, and procaddr_test.go that each is a table
row of libcuda), and driver 580.159.04 answers cuGetProcAddress_v2 for every one of them, at
every version 1000..13000 and with both stream flags, with exactly these exports
(procaddr_driver580_test.go holds that measurement).`, release(driverDecls), driverDecls, version(olderDecls), driverExports)))
	b.WriteString("var procAddrData = []ProcSymbol{\n")
	for _, s := range kept[0] {
		b.WriteString(s.goRow())
	}
	b.WriteString("\n" + comment("\t", fmt.Sprintf(`The OpenGL, EGL and VDPAU interop entry points, from the PFN typedefs
of cudaGLTypedefs.h, cudaEGLTypedefs.h and cudaVDPAUTypedefs.h of %[1]s
(%[2]s/cudaGLTypedefs.txt, cudaEGLTypedefs.txt, cudaVDPAUTypedefs.txt; exactly the entries
first derived from CUDA 13.0's copies, read on the GPU host), checked against driver 580.159.04
as above. Not listed, because that driver does not resolve them: %[3]s (%[4]s says why) and
cuWGLGetDevice (Windows; its typedef is under #ifdef _WIN32, which gen/cmd/extract skips).`,
		release(interopDecls), interopDecls, excludedText, excludeFile)))
	for _, s := range kept[1] {
		b.WriteString(s.goRow())
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}
