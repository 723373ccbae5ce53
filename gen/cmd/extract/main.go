// Command extract writes gen/'s inputs from NVIDIA's files, which stay outside the repository:
//
//	go run ./gen/cmd/extract headers -dir DIR -out gen/decls/cuda-13.0 -label 'CUDA 13.0' [-only cuda|cublas|a.h,b.h]
//	go run ./gen/cmd/extract exports -out gen/exports/cuda-13.0 -label 'CUDA 13.0 (13.0.96)' LIST...
//
// headers reads the headers it knows (rules, below) that DIR holds and writes, for each, the
// declaration facts gen/cmd/apidata needs into one .txt file of -out. exports reads export lists
// as `nm -D --defined-only --with-symbol-versions LIB` prints them (a file named
// <SONAME>.exports) and writes <SONAME>.txt into -out: each symbol with its version node, in
// the list's order. gen/README.md says when to run which.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/vgpu/vgpu/gen/internal/cheader"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("extract: ")
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

const usage = "usage: extract headers -dir DIR -out DIR -label TEXT [-only a.h,b.h]\n" +
	"       extract exports -out DIR -label TEXT LIST..."

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "the folder of NVIDIA's headers (headers)")
	out := fs.String("out", "", "the gen/ folder to write")
	label := fs.String("label", "", "which release the files are of, for the files' first line ('CUDA 13.0')")
	only := fs.String("only", "", "comma-separated headers to read, or cuda (every header but cuBLAS's) or cublas "+
		"(cublas_api.h, cublasLt.h); default: every header extract knows that -dir holds")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" || *label == "" {
		return errors.New(usage)
	}
	switch args[0] {
	case "headers":
		if *dir == "" || fs.NArg() != 0 {
			return errors.New(usage)
		}
		var pick map[string]bool
		if *only != "" {
			pick = map[string]bool{}
			for _, h := range strings.Split(*only, ",") {
				for _, r := range rules {
					if h == r.header || h == "cublas" && isCublas(r) || h == "cuda" && !isCublas(r) {
						pick[r.header] = true
					}
				}
				if len(pick) == 0 {
					return fmt.Errorf("-only %s: extract reads no such header", h)
				}
			}
		}
		return headers(*dir, *out, *label, pick)
	case "exports":
		if fs.NArg() == 0 {
			return errors.New(usage)
		}
		for _, f := range fs.Args() {
			if err := exports(f, *out, *label); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New(usage)
}

// A rule: which header, which file it gives, what that file holds, and how.
type rule struct {
	header, file, holds string
	extract             func(cheader.Header) (lines, warnings []string, err error)
}

const pfnHolds = "one line per PFN_<name>_v<version>[_ptds|_ptsz] typedef: name, version, variant"

var rules = []rule{
	{"cudaTypedefs.h", "cudaTypedefs.txt", pfnHolds, cheader.PFNTypedefs},
	{"cudaProfilerTypedefs.h", "cudaProfilerTypedefs.txt", pfnHolds, cheader.PFNTypedefs},
	{"cudaGLTypedefs.h", "cudaGLTypedefs.txt", pfnHolds + " (Windows-only ones left out)", cheader.PFNTypedefs},
	{"cudaEGLTypedefs.h", "cudaEGLTypedefs.txt", pfnHolds, cheader.PFNTypedefs},
	{"cudaVDPAUTypedefs.h", "cudaVDPAUTypedefs.txt", pfnHolds, cheader.PFNTypedefs},
	{"cuda_runtime_api.h", "cuda_runtime_api.txt", "the export names it yields: every cuda* function it declares, the " +
		"target of each #define cudaX cudaY, and cudaY with cudaY_ptds/_ptsz for each #define cudaX __CUDART_API_PTDS/PTSZ(cudaY)",
		cheader.RuntimeExports},
	{"cuda_gl_interop.h", "cuda_gl_interop.txt", "every cuda* function it declares (Windows-only ones left out)", cheader.InteropExports},
	{"cuda_egl_interop.h", "cuda_egl_interop.txt", "every cuda* function it declares", cheader.InteropExports},
	{"cuda_vdpau_interop.h", "cuda_vdpau_interop.txt", "every cuda* function it declares", cheader.InteropExports},
	{"crt/host_runtime.h", "crt_host_runtime.txt", "every __cuda* function it declares with extern", cheader.PrivateExports},
	{"crt/device_functions.h", "crt_device_functions.txt", "every __cuda* function it declares with extern", cheader.PrivateExports},
	{"cublas_api.h", "cublas_api.txt", "the prototype of every function it declares with CUBLASWINAPI (not its inline wrappers)",
		cheader.CublasPrototypes},
	{"cublasLt.h", "cublasLt.txt", "the prototype of every function it declares (not its inline wrappers)", cheader.CublasLtPrototypes},
}

func isCublas(r rule) bool { return strings.HasPrefix(r.header, "cublas") }

func headers(dir, out, label string, pick map[string]bool) error {
	n := 0
	for _, r := range rules {
		if pick != nil && !pick[r.header] {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, r.header))
		if errors.Is(err, os.ErrNotExist) && (pick == nil || len(pick) > 1) {
			continue
		}
		if err != nil {
			return err
		}
		lines, warnings, err := r.extract(cheader.Parse(src))
		if err != nil {
			return fmt.Errorf("%s: %w", r.header, err)
		}
		for _, w := range warnings {
			log.Printf("%s: %s", r.header, w)
		}
		if len(lines) == 0 {
			return fmt.Errorf("%s: nothing extracted", r.header)
		}
		head := fmt.Sprintf("%s of %s: %s; sorted.", r.header, label, r.holds)
		if err := write(filepath.Join(out, r.file), head, lines); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s holds none of the headers extract reads", dir)
	}
	return nil
}

// exports converts one nm list. A line is "name@@node" (or "name@node", a non-default version)
// or "name" (unversioned); a versioned library lists its node itself as an unversioned
// absolute symbol, which is left out.
func exports(path, out, label string) error {
	soname := strings.TrimSuffix(filepath.Base(path), ".exports")
	if soname == filepath.Base(path) {
		return fmt.Errorf("%s: an export list is named <SONAME>.exports", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	type sym struct{ name, node string }
	var syms []sym
	nodes := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			continue
		}
		if strings.ContainsAny(l, " \t") {
			return fmt.Errorf("%s: %q: one symbol a line, without nm's address and type (--format=just-symbols)", path, l)
		}
		name, node, ok := strings.Cut(l, "@@")
		if !ok {
			name, node, _ = strings.Cut(l, "@")
		}
		if node != "" {
			nodes[node] = true
		}
		syms = append(syms, sym{name, node})
	}
	var lines []string
	for _, s := range syms {
		switch {
		case s.node == "" && nodes[s.name]:
			continue // the version node's own entry
		case s.node == "":
			lines = append(lines, s.name)
		default:
			lines = append(lines, s.name+" "+s.node)
		}
	}
	head := fmt.Sprintf("%s of %s: every symbol it exports (name, version node if any), in nm's order.", soname, label)
	return write(filepath.Join(out, soname+".txt"), head, lines)
}

// write writes a gen/ input file: a comment naming what it holds and who wrote it, then lines.
func write(path, head string, lines []string) error {
	var b bytes.Buffer
	for _, l := range wrap("# "+head+" Written by gen/cmd/extract (gen/README.md); do not edit.", 100) {
		b.WriteString(l + "\n")
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d lines\n", path, len(lines))
	return nil
}

// wrap breaks a comment into lines of at most width bytes, each starting with "# ".
func wrap(s string, width int) []string {
	var out []string
	cur := ""
	for _, w := range strings.Fields(strings.TrimPrefix(s, "# ")) {
		if cur != "" && len(cur)+1+len(w) > width {
			out = append(out, cur)
			cur = ""
		}
		if cur == "" {
			cur = "# " + w
		} else {
			cur += " " + w
		}
	}
	return append(out, cur)
}
