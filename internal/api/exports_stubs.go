package api

// stubRows returns a Stub row for every export of the real libraries (exports_*.go) that no row
// of t serves, so that the stubs export at least every symbol the real libraries do (a consumer
// that dlopens with RTLD_NOW fails on any missing one). A name in both cudart lists gets one row
// for both libraries; a row of t that lists one cudart library covers only that one. The order
// is the lists' order: libcuda, NVML, then cudart 13 followed by the names only cudart 12 has,
// then cuBLAS and cuBLASLt 13, then the names only cuBLAS and cuBLASLt 12 have.
func stubRows(t []Func) []Func {
	type export struct {
		name string
		lib  Lib
	}
	covered := map[export]bool{}
	for i := range t {
		if t[i].Internal {
			continue
		}
		for _, l := range t[i].Libs {
			covered[export{t[i].Name, l}] = true
		}
	}
	var rows []Func
	add := func(name string, libs []Lib) {
		var need []Lib
		for _, l := range libs {
			if !covered[export{name, l}] {
				need = append(need, l)
				covered[export{name, l}] = true
			}
		}
		if len(need) == len(libs) {
			need = libs // share the package's slices (cu, nvml, rt)
		}
		if len(need) > 0 {
			ret := stubRet[name]
			if ret == "" {
				ret = cublasStubRet[name]
			}
			rows = append(rows, Func{Name: name, Libs: need, Serve: Stub, Ret: ret})
		}
	}
	for _, n := range cudaExports {
		add(n, cu)
	}
	for _, n := range nvmlExports {
		add(n, nvml)
	}
	in12 := make(map[string]bool, len(cudart12Exports))
	for _, n := range cudart12Exports {
		in12[n] = true
	}
	in13 := make(map[string]bool, len(cudart13Exports))
	for _, n := range cudart13Exports {
		in13[n] = true
		if in12[n] {
			add(n, rt)
		} else {
			add(n, rt13)
		}
	}
	for _, n := range cudart12Exports {
		if !in13[n] {
			add(n, rt12)
		}
	}
	// cuBLAS as cudart: a name of both the 13 and the 12 list gets one row for both libraries
	// (13 first), the names only the 12 lists have come last.
	cublasOf := func(n string, in12 map[string]bool, both, only13 []Lib) {
		if in12[n] {
			add(n, both)
		} else {
			add(n, only13)
		}
	}
	inCublas12, inCublasLt12 := nameSet(cublas12Exports), nameSet(cublasLt12Exports)
	for _, n := range cublasExports {
		cublasOf(n, inCublas12, cublas, cublas13)
	}
	for _, n := range cublasLtExports {
		cublasOf(n, inCublasLt12, cublasLt, cublasLt13)
	}
	inCublas13, inCublasLt13 := nameSet(cublasExports), nameSet(cublasLtExports)
	for _, n := range cublas12Exports {
		if !inCublas13[n] {
			add(n, cublas12)
		}
	}
	for _, n := range cublasLt12Exports {
		if !inCublasLt13[n] {
			add(n, cublasLt12)
		}
	}
	return rows
}

func nameSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	rt12       = []Lib{LibCudart12}
	rt13       = []Lib{LibCudart13}
	cublas13   = []Lib{LibCublas13}
	cublasLt13 = []Lib{LibCublasLt13}
	cublas12   = []Lib{LibCublas12}
	cublasLt12 = []Lib{LibCublasLt12}
)

// stubRet is the C return type of the exports whose result is not the library's int-sized
// result code (CUresult, cudaError_t, nvmlReturn_t), from NVIDIA's headers: cuda.h has none;
// nvml.h has nvmlErrorString; cuda_runtime_api.h has the error strings and
// cudaCreateChannelDesc (a struct by value: hand-written, see exports_manual.go); the private
// entry points nvcc's generated code calls are in crt/host_runtime.h and crt/device_functions.h.
// A stub without parameters that returns an int is ABI-safe for any int-sized result and for
// void; the rest need their type: a pointer must be NULL (or a valid string), not a code.
// __cudaRegisterHostVar, __cudaRegisterUnifiedTable and __cudaGetProcAddress are declared in no
// header at hand; int is the safe guess for them (right for an int result and for void).
var stubRet = map[string]string{
	"nvmlErrorString":             "const char *",
	"cudaGetErrorName":            "const char *",
	"cudaGetErrorString":          "const char *",
	"__cudaRegisterFatBinary":     "void **",
	"__cudaRegisterFatBinaryEnd":  "void",
	"__cudaUnregisterFatBinary":   "void",
	"__cudaRegisterFunction":      "void",
	"__cudaRegisterVar":           "void",
	"__cudaRegisterManagedVar":    "void",
	"__cudaRegisterTexture":       "void",
	"__cudaRegisterSurface":       "void",
	"__cudaInitModule":            "char",
	"__cudaPushCallConfiguration": "unsigned int",
}
