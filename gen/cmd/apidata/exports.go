package main

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// readExports reads gen/exports/<release>/<soname>.txt: its symbol names in order. Every
// symbol must be under the version node node ("" for an unversioned library), as the stubs
// export them (docs/ARCHITECTURE.md, decision 6).
func readExports(dir, soname, node string) ([]string, error) {
	file := dir + "/" + soname + ".txt"
	lines, err := readLines(file)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(lines))
	seen := map[string]bool{}
	for _, l := range lines {
		f := strings.Fields(l)
		got := ""
		if len(f) > 1 {
			got = f[1]
		}
		if len(f) > 2 || got != node {
			return nil, fmt.Errorf("%s: %q: every symbol of %s should be under version node %q", file, l, soname, node)
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("%s: %s listed twice", file, f[0])
		}
		seen[f[0]] = true
		names = append(names, f[0])
	}
	return names, nil
}

// readNames reads a gen/ file of one name a line, or of prototypes, whose names it takes.
func readNames(file string) ([]string, error) {
	lines, err := readLines(file)
	if err != nil {
		return nil, err
	}
	for i, l := range lines {
		if j := strings.IndexByte(l, '('); j >= 0 {
			m := lastIdent.FindString(l[:j])
			if m == "" {
				return nil, fmt.Errorf("%s: %q: no function name", file, l)
			}
			lines[i] = m
		} else if strings.ContainsAny(l, " \t") {
			return nil, fmt.Errorf("%s: %q: one name a line", file, l)
		}
	}
	return lines, nil
}

var lastIdent = regexp.MustCompile(`\w+$`)

func cudaExportsGo() ([]byte, error) {
	file := driverExports + "/libcuda.so.1.txt"
	names, err := readExports(driverExports, "libcuda.so.1", "")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header(file))
	b.WriteString(comment("", fmt.Sprintf(`cudaExports is every symbol libcuda.so.1 of %s exports, in the order of
its export list (%s, read from the real library with nm -D --defined-only). The stub exports
each one (unversioned); buildTable gives every name without a row of its own a Stub row.

The cudbg* names are the debugger interface: in the real library most of them are data (nm
type B), here they are functions like every other stub; no consumer but cuda-gdb reads them.`,
		release(driverExports), file)))
	b.WriteString("var cudaExports = []string{\n")
	goStrings(&b, names)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func nvmlExportsGo() ([]byte, error) {
	file := driverExports + "/libnvidia-ml.so.1.txt"
	names, err := readExports(driverExports, "libnvidia-ml.so.1", "")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header(file))
	b.WriteString(comment("", fmt.Sprintf(`nvmlExports is every symbol libnvidia-ml.so.1 of %s exports, in
the order of its export list (%s); unversioned.`, release(driverExports), file)))
	b.WriteString("var nvmlExports = []string{\n")
	goStrings(&b, names)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func cudart13ExportsGo() ([]byte, error) {
	file := cudaExports + "/libcudart.so.13.txt"
	names, err := readExports(cudaExports, "libcudart.so.13", "libcudart.so.13")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header(file))
	b.WriteString(comment("", fmt.Sprintf(`cudart13Exports is every symbol libcudart.so.13 of %s exports, each
under the version node libcudart.so.13, in the order of its export list (%s).`, release(cudaExports), file)))
	b.WriteString("var cudart13Exports = []string{\n")
	goStrings(&b, names)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func cublasExportsGo() ([]byte, error) {
	blas, err := readExports(cudaExports, "libcublas.so.13", "libcublas.so.13")
	if err != nil {
		return nil, err
	}
	lt, err := readExports(cudaExports, "libcublasLt.so.13", "libcublasLt.so.13")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header(cudaExports + "/libcublas.so.13.txt, libcublasLt.so.13.txt"))
	b.WriteString(comment("", fmt.Sprintf(`cublasExports is every symbol libcublas.so.13 of %[1]s exports, each
under the version node libcublas.so.13, and cublasLtExports every symbol of libcublasLt.so.13,
under libcublasLt.so.13, in the order of their export lists (%[2]s/libcublas.so.13.txt,
libcublasLt.so.13.txt).`, release(cudaExports), cudaExports)))
	b.WriteString("var cublasExports = []string{\n")
	goStrings(&b, blas)
	b.WriteString("}\n\nvar cublasLtExports = []string{\n")
	goStrings(&b, lt)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// cudart12Parts are the inputs of libcudart.so.12's list, in the order its comment names them.
var cudart12Parts = []struct{ file, what string }{
	{cudart12Decls + "/cuda_runtime_api.txt", "runtime"},
	{cudart12Decls + "/cuda_gl_interop.txt", "interop"},
	{cudart12Decls + "/cuda_egl_interop.txt", "interop"},
	{cudart12Decls + "/cuda_vdpau_interop.txt", "interop"},
	{cudart12Decls + "/crt_host_runtime.txt", "private"},
	{cudart12Decls + "/crt_device_functions.txt", "private"},
	{manual + "/cudart12_extra.txt", "extra"},
}

func cudart12ExportsGo() ([]byte, error) {
	count := map[string]int{}
	var all []string
	seen := map[string]bool{}
	for _, p := range cudart12Parts {
		names, err := readNames(p.file)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if seen[n] {
				if p.what == "extra" {
					return nil, fmt.Errorf("%s: %s is derived already", p.file, n)
				}
				continue
			}
			seen[n] = true
			all = append(all, n)
			count[p.what]++
		}
	}
	sort.Strings(all)

	// The rule, checked on the release with an export list: every name its
	// cuda_runtime_api.h yields is an export.
	v13, err := readExports(cudaExports, "libcudart.so.13", "libcudart.so.13")
	if err != nil {
		return nil, err
	}
	yields13, err := readNames(driverDecls + "/cuda_runtime_api.txt")
	if err != nil {
		return nil, err
	}
	in13 := set(v13)
	for _, n := range yields13 {
		if !in13[n] {
			return nil, fmt.Errorf("%s/cuda_runtime_api.txt yields %s, which libcudart.so.13 does not export: the rule no longer holds", driverDecls, n)
		}
	}
	only12, only13, shared := diff(all, v13)

	var b bytes.Buffer
	b.WriteString(header(cudart12Decls + "/cuda_runtime_api.txt, cuda_gl_interop.txt, cuda_egl_interop.txt, cuda_vdpau_interop.txt, crt_host_runtime.txt, crt_device_functions.txt; " +
		manual + "/cudart12_extra.txt; checked against " + cudaExports + "/libcudart.so.13.txt and " + driverDecls + "/cuda_runtime_api.txt"))
	b.WriteString(comment("", fmt.Sprintf(`cudart12Exports is what libcudart.so.12 exports, each under the version
node libcudart.so.12.

No export list of a real libcudart.so.12 was at hand, so the list is derived from the %[1]s
headers (%[2]s/) by the rule that gives the %[3]s list from the %[3]s headers (every name %[3]s's
cuda_runtime_api.h yields, %[4]s/cuda_runtime_api.txt, is in libcudart.so.13's export list,
and the %[5]d exports it does not yield are private entries and interop functions as below):

- the names cuda_runtime_api.h yields (cuda_runtime_api.txt): every function it declares
(extern ... cuda*(...), the __CUDA_API_VERSION_INTERNAL block included, which declares the
plain names the public macros hide: cudaGetDeviceProperties beside cudaGetDeviceProperties_v2,
cudaStreamGetCaptureInfo beside _v2 and _v3, ...); the target of every "#define cudaX cudaY"
(cudaGetDeviceProperties_v2, ...); and for "#define cudaX __CUDART_API_PTDS(cudaY)" /
"__CUDART_API_PTSZ(cudaY)" both cudaY and cudaY_ptds / cudaY_ptsz (the per-thread default
stream variants): %[6]d names;
- the functions of the interop headers (cuda_gl_interop.txt, less the Windows-only
cudaWGLGetDevice; cuda_egl_interop.txt; cuda_vdpau_interop.txt): %[7]d names;
- the private entry points that nvcc's generated code calls, as crt/host_runtime.h and
crt/device_functions.h declare them (crt_host_runtime.txt, crt_device_functions.txt;
__cudaRegisterTexture/Surface among them, which %[3]s declares too but no longer exports):
%[8]d names;
- the names %[9]s/cudart12_extra.txt adds, each with its reason there (the profiler's start
and stop, and private entries only the %[3]s list shows): %[10]d names.

Against libcudart.so.13's list: %[11]d names in all, %[12]d shared, %[13]d only here, %[14]d only in 13.

	Only in 12 (removed or renamed in %[3]s):`, release(cudart12Decls), cudart12Decls, version(cudaExports), driverDecls, len(v13)-len(yields13),
		count["runtime"], count["interop"], count["private"], manual, count["extra"],
		len(all), shared, len(only12), len(only13))))
	b.WriteString(wrapList(only12, "."))
	fmt.Fprintf(&b, "//\tOnly in 13 (new in %s):\n", version(cudaExports))
	b.WriteString(wrapList(only13, "."))
	b.WriteString("var cudart12Exports = []string{\n")
	goStrings(&b, all)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func cublas12ExportsGo() ([]byte, error) {
	blas, err := readNames(cublas12Decls + "/cublas_api.txt")
	if err != nil {
		return nil, err
	}
	lt, err := readNames(cublas12Decls + "/cublasLt.txt")
	if err != nil {
		return nil, err
	}
	for _, l := range [][]string{blas, lt} {
		if !sort.StringsAreSorted(l) {
			return nil, fmt.Errorf("%s: not sorted", cublas12Decls)
		}
	}
	blas13, err := readExports(cudaExports, "libcublas.so.13", "libcublas.so.13")
	if err != nil {
		return nil, err
	}
	lt13, err := readExports(cudaExports, "libcublasLt.so.13", "libcublasLt.so.13")
	if err != nil {
		return nil, err
	}
	ilp64 := 0
	for _, n := range blas {
		if strings.HasSuffix(n, "_64") {
			ilp64++
		}
	}
	bOnly12, bOnly13, bShared := diff(blas, blas13)
	lOnly12, lOnly13, lShared := diff(lt, lt13)
	xt := 0
	for _, n := range bOnly13 {
		if strings.HasPrefix(n, "cublasXt") {
			xt++
		}
	}
	v := version(cudaExports)
	var b bytes.Buffer
	b.WriteString(header(cublas12Decls + "/cublas_api.txt, cublasLt.txt; compared with " + cudaExports + "/libcublas.so.13.txt, libcublasLt.so.13.txt"))
	b.WriteString(comment("", fmt.Sprintf(`cublas12Exports is what libcublas.so.12 exports, each under the version
node libcublas.so.12, and cublasLt12Exports what libcublasLt.so.12 exports, under
libcublasLt.so.12.

No export list of a real libcublas.so.12 was at hand, so both lists are derived from the
%[1]s headers (%[2]s/):

- cublas12Exports: every function cublas_api.h declares with CUBLASWINAPI (cublas_api.txt),
that is every CUBLASAPI declaration plus the Set/GetVector/Matrix(Async)(_64) ones declared
with CUBLASWINAPI alone. The header declares the _v2 names themselves (cublasCreate_v2, ...;
the unsuffixed macros that map to them live in cublas_v2.h) and the ILP64 _64 variants (%[3]d
names). The static inline C++ wrappers at its end (cublasMigrateComputeType and the
cudaDataType overloads of cublasGemmEx, cublasGemmBatchedEx, cublasGemmStridedBatchedEx) are
not exported: %[4]d names. The legacy API of cublas.h is not covered by the rule.
- cublasLt12Exports: every function cublasLt.h declares (cublasLt.txt; all with CUBLASWINAPI),
the *Init_internal entries its static inline *Init wrappers call included, the wrappers
themselves not: %[5]d names.

Both lists are sorted by name (byte order).

Against the %[6]s lists (%[7]s/libcublas{,Lt}.so.13.txt): libcublas %[4]d names here, %[8]d in
13, %[9]d shared, %[10]d only here%[11]s, %[12]d only in 13 (the legacy API of cublas.h,
cublasXt.h's %[13]d cublasXt* functions, exports no header declares, and %[6]s additions);
libcublasLt %[5]d here, %[14]d in 13, %[15]d shared, %[16]d only here%[17]s, %[18]d only in 13
(undeclared per-type matmul entries and %[6]s additions).`, release(cublas12Decls), cublas12Decls, ilp64, len(blas), len(lt), v, cudaExports,
		len(blas13), bShared, len(bOnly12), named(bOnly12), len(bOnly13), xt,
		len(lt13), lShared, len(lOnly12), named(lOnly12), len(lOnly13))))
	b.WriteString("var cublas12Exports = []string{\n")
	goStrings(&b, blas)
	b.WriteString("}\n\nvar cublasLt12Exports = []string{\n")
	goStrings(&b, lt)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// named is " (a, b)" for a short list of names, "" for none.
func named(names []string) string {
	if len(names) == 0 || len(names) > 4 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// diff: the names only in a and only in b (each sorted), and how many both have.
func diff(a, b []string) (onlyA, onlyB []string, shared int) {
	inA, inB := set(a), set(b)
	for _, n := range a {
		if inB[n] {
			shared++
		} else {
			onlyA = append(onlyA, n)
		}
	}
	for _, n := range b {
		if !inA[n] {
			onlyB = append(onlyB, n)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB, shared
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
