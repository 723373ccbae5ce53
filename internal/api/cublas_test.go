package api

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every symbol of the real libcublas.so.13 and libcublasLt.so.13 is exported by the stub of that
// library, under its version node, and the Go lists are the reference lists.
func TestCublasExportsCoverReference(t *testing.T) {
	dir := referenceDir(t)
	for _, c := range []struct {
		file string
		lib  Lib
		list []string
	}{
		{"libcublas.so.13.exports", LibCublas13, cublasExports},
		{"libcublasLt.so.13.exports", LibCublasLt13, cublasLtExports},
	} {
		version := c.lib.Info().Version
		if version != c.lib.Info().SONAME {
			t.Errorf("%s: version node %q, want the SONAME", c.lib, version)
		}
		var names []string
		for _, l := range readLines(t, filepath.Join(dir, "symbols", c.file)) {
			name, node, versioned := strings.Cut(l, "@@")
			switch {
			case versioned && node != version:
				t.Errorf("%s: %s is under version node %s, the stub's is %q", c.file, name, node, version)
			case !versioned && name == version:
				continue // the node's own entry
			case !versioned:
				t.Errorf("%s: %s has no version, but every export of %s should", c.file, name, c.lib)
			}
			names = append(names, name)
			if !exported(name, c.lib) {
				t.Errorf("%s exports %s, the table does not", c.lib, name)
			}
		}
		if !slices.Equal(names, c.list) {
			t.Errorf("the Go list of %s differs from %s", c.lib, c.file)
		}
	}
}

// cublas12Of is the CUDA 12 library an explicit 13 row may serve as well.
var cublas12Of = map[Lib]Lib{LibCublas13: LibCublas12, LibCublasLt13: LibCublasLt12}

// The cuBLAS rows: each explicit one names a real export of its library; every other export is
// a Stub row answering the library's not-supported code; the implemented set is what ggml-cuda
// imports plus the companions table_cublas.go lists.
func TestCublasRows(t *testing.T) {
	lists := map[Lib][]string{LibCublas13: cublasExports, LibCublasLt13: cublasLtExports}
	exported := 0
	for _, f := range append(append(append([]Func(nil), cublasTable...), cublasTorchTable...), cublasDotExRows...) {
		if f.Internal {
			continue // vgpu's wire form of a hand-written function (vgpuLtMatmul)
		}
		exported++
		if len(f.Libs) != 1 && !(len(f.Libs) == 2 && f.Libs[1] == cublas12Of[f.Libs[0]]) {
			t.Errorf("%s: a cuBLAS row is exported by exactly one library (and its CUDA 12 sibling)", f.Name)
			continue
		}
		if !slices.Contains(lists[f.Lib()], f.Name) {
			t.Errorf("%s is no export of %s", f.Name, f.Lib())
		}
		if f.Serve == Stub {
			t.Errorf("%s: explicit cuBLAS rows are implemented", f.Name)
		}
		for _, p := range f.Params {
			if p.C == "cublasHandle_t" && p.Kind == Handle && p.H != HCublas {
				t.Errorf("%s: handle %s is not an HCublas handle", f.Name, p.Name)
			}
		}
	}
	for _, name := range []string{"cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetMathMode",
		"cublasSetWorkspace_v2", "cublasGetStatusString", "cublasGemmEx", "cublasGemmStridedBatchedEx",
		"cublasGemmBatchedEx", "cublasSgemm_v2", "cublasSgemmBatched", "cublasSgemmStridedBatched", "cublasStrsmBatched"} {
		_, f, ok := Lookup(name)
		if !ok || f.Serve == Stub || f.Lib() != LibCublas13 {
			t.Errorf("%s (imported by ggml-cuda) is not implemented", name)
		}
	}
	stubs := 0
	for i := range Table {
		f := &Table[i]
		if f.Lib() != LibCublas13 && f.Lib() != LibCublasLt13 {
			continue
		}
		if f.RetType() == "cublasStatus_t" && f.Lib().Info().NotSupported != 15 {
			t.Errorf("%s: not-supported code %d, want CUBLAS_STATUS_NOT_SUPPORTED (15)", f.Name, f.Lib().Info().NotSupported)
		}
		if f.Serve == Stub {
			stubs++
		}
	}
	if want := len(cublasExports) + len(cublasLtExports) - exported; stubs != want {
		t.Errorf("%d cuBLAS stub rows, want %d", stubs, want)
	}
	// Rows with a handle and the GEMMs never exceed what the real backend passes.
	_, f, _ := Lookup("cublasGemmStridedBatchedEx")
	if len(f.Params) != 23 {
		t.Errorf("cublasGemmStridedBatchedEx has %d params, cublas_api.h 23", len(f.Params))
	}
}

// The *Ex GEMMs' scalar size for every cublasComputeType_t (cublas_api.h) and the legacy
// cudaDataType compute types, real and complex.
func TestCublasScalarBytes(t *testing.T) {
	const (
		rF32, rF64, rF16, rBF16, cF32, cF64, r32I, r8I = 0, 1, 2, 14, 4, 5, 10, 3
	)
	cases := []struct {
		name          string
		compute, ctyp int32
		want          int
	}{
		{"CUBLAS_COMPUTE_16F", 64, rF16, 2},
		{"CUBLAS_COMPUTE_16F_PEDANTIC", 65, rF16, 2},
		{"CUBLAS_COMPUTE_32F", 68, rF32, 4},
		{"CUBLAS_COMPUTE_32F (bf16 C)", 68, rBF16, 4},
		{"CUBLAS_COMPUTE_32F (f16 C)", 68, rF16, 4},
		{"CUBLAS_COMPUTE_32F_PEDANTIC", 69, rF32, 4},
		{"CUBLAS_COMPUTE_32F_FAST_16F", 74, rF32, 4},
		{"CUBLAS_COMPUTE_32F_FAST_16BF", 75, rF32, 4},
		{"CUBLAS_COMPUTE_32F_FAST_TF32", 77, rF32, 4},
		{"CUBLAS_COMPUTE_32F_EMULATED_16BFX9", 78, rF32, 4},
		{"CUBLAS_COMPUTE_64F", 70, rF64, 8},
		{"CUBLAS_COMPUTE_64F_PEDANTIC", 71, rF64, 8},
		{"CUBLAS_COMPUTE_64F_EMULATED_FIXEDPOINT", 79, rF64, 8},
		{"CUBLAS_COMPUTE_32I", 72, r32I, 4},
		{"CUBLAS_COMPUTE_32I_PEDANTIC", 73, r32I, 4},
		{"CUBLAS_COMPUTE_32I (int8 C)", 72, r8I, 4},
		{"CUBLAS_COMPUTE_32F, complex C", 68, cF32, 8},
		{"CUBLAS_COMPUTE_32F_FAST_TF32, complex C", 77, cF32, 8},
		{"CUBLAS_COMPUTE_64F, complex C", 70, cF64, 16},
		{"CUDA_R_16F as compute type", 2, rF16, 2},
		{"CUDA_R_32F as compute type", 0, rF32, 4},
		{"CUDA_R_64F as compute type", 1, rF64, 8},
		{"CUDA_R_32I as compute type", 10, r32I, 4},
		{"CUDA_C_32F as compute type", 4, cF32, 8},
		{"CUDA_C_64F as compute type", 5, cF64, 16},
	}
	for _, c := range cases {
		n, ok := CublasScalarBytes(c.compute, c.ctyp)
		if !ok || n != c.want {
			t.Errorf("%s (%d, Ctype %d): %d bytes (ok %v), want %d", c.name, c.compute, c.ctyp, n, ok, c.want)
		}
		if n > CublasScalarWire {
			t.Errorf("%s: %d bytes do not fit the %d the wire carries", c.name, n, CublasScalarWire)
		}
	}
	for _, bad := range []int32{-1, 3, 63, 66, 67, 76, 80, 1000} {
		if n, ok := CublasScalarBytes(bad, rF32); ok {
			t.Errorf("compute type %d: %d bytes, want refused", bad, n)
		}
	}
	// The scalars of every *Ex row travel as CublasScalarWire bytes, those of the S* rows as a float.
	for _, f := range cublasTable {
		for _, p := range f.Params {
			if p.Name != "alpha" && p.Name != "beta" {
				continue
			}
			if f.Serve == Local {
				continue // the hand-written client (cublasLtMatmul) reads them by the scale type
			}
			want := "4"
			if strings.HasSuffix(f.Name, "Ex") || f.Name == "vgpuLtMatmul" {
				want = "16"
			}
			if p.Kind != InBuf || p.Size != want {
				t.Errorf("%s: %s is %v of %s bytes, want InBuf of %s", f.Name, p.Name, p.Kind, p.Size, want)
			}
		}
	}
}

// cublasStubRet agrees with the rows: the stub rows take its types, the explicit rows declare them.
func TestCublasRet(t *testing.T) {
	for name, ret := range cublasStubRet {
		_, f, ok := Lookup(name)
		if !ok {
			t.Errorf("cublasStubRet names %s, which has no row", name)
		} else if f.RetType() != ret {
			t.Errorf("cublasStubRet[%s] = %q, but its row returns %q", name, ret, f.RetType())
		}
	}
	for i := range Table {
		f := &Table[i]
		if (f.Lib() == LibCublas13 || f.Lib() == LibCublasLt13) && f.RetType() != "cublasStatus_t" && cublasStubRet[f.Name] == "" {
			t.Errorf("%s returns %s, which cublasStubRet does not say", f.Name, f.RetType())
		}
	}
}

// A cuBLASLt scale type's size, and that every one fits the scalar wire width.
func TestCudaDataTypeBytes(t *testing.T) {
	for typ, want := range map[int32]int{0: 4, 1: 8, 2: 2, 14: 2, 4: 8, 5: 16, 10: 4, 3: 1} {
		n, ok := CudaDataTypeBytes(typ)
		if !ok || n != want || n > CublasScalarWire {
			t.Errorf("cudaDataType %d: %d bytes (ok %v), want %d", typ, n, ok, want)
		}
	}
	if _, ok := CudaDataTypeBytes(999); ok {
		t.Error("an unknown cudaDataType has a size")
	}
}

// Every cuBLAS row with host scalars (or a dot product's result) has a device-pointer-mode twin
// that calls the same export with those as device addresses; a twin that no longer waits for
// a host output is async.
func TestCublasDeviceTwins(t *testing.T) {
	twins := 0
	for i := range Table {
		f := &Table[i]
		if !strings.HasPrefix(f.Name, CublasDevicePrefix) {
			continue
		}
		twins++
		_, orig, ok := Lookup(strings.TrimPrefix(f.Name, CublasDevicePrefix))
		if !ok || f.Server != orig.Name || !f.Internal || len(f.Params) != len(orig.Params) {
			t.Errorf("%s: not a twin of an exported row (server %q)", f.Name, f.Server)
			continue
		}
		for j, p := range f.Params {
			if p.Name == "alpha" || p.Name == "beta" || p.Name == "result" {
				if p.Kind != DevPtr || p.C != orig.Params[j].C {
					t.Errorf("%s: %s is %v, want a device address of %s", f.Name, p.Name, p.Kind, orig.Params[j].C)
				}
			}
		}
	}
	for _, name := range []string{"cublasSgemm_v2", "cublasGemmEx", "cublasSdot_v2", "cublasZgemv_v2", "cublasDtrsm_v2"} {
		if _, f, ok := Lookup(CublasDevicePrefix + name); !ok {
			t.Errorf("%s has no device-pointer-mode twin", name)
		} else if f.Serve != Async {
			t.Errorf("%s's twin waits for a reply", name)
		}
	}
	if _, _, ok := Lookup(CublasDevicePrefix + "cublasSgetrsBatched"); ok {
		t.Error("cublasSgetrsBatched (no scalars) has a twin")
	}
	if twins < 30 {
		t.Errorf("%d twins", twins)
	}
}

// PyTorch sets a handle's stream, workspace and math mode each time it takes the handle for a
// GEMM (getCurrentCUDABlasHandle), and creates, sets and destroys a cuBLASLt matmul's
// descriptors around it: none of these waits for the server, or every GEMM would cost that many
// round trips more. The creators can be sent so because the client mints their handles.
func TestCublasHandleSettersDoNotWait(t *testing.T) {
	for _, name := range []string{"cublasSetStream_v2", "cublasSetWorkspace_v2", "cublasSetMathMode",
		// and around each cuBLASLt matmul (at::cuda::blas::gemm_and_bias)
		"cublasLtMatmulDescCreate", "cublasLtMatrixLayoutCreate", "cublasLtMatmulPreferenceCreate",
		"cublasLtMatmulDescSetAttribute", "cublasLtMatrixLayoutSetAttribute", "cublasLtMatmulPreferenceSetAttribute",
		"cublasLtMatmulDescDestroy", "cublasLtMatrixLayoutDestroy", "cublasLtMatmulPreferenceDestroy"} {
		if _, f, ok := Lookup(name); !ok {
			t.Errorf("no row %s", name)
		} else if f.Serve != Async {
			t.Errorf("%s: serve %v, want Async", name, f.Serve)
		}
	}
	for name, h := range map[string]HType{"cublasLtMatmulDescCreate": HLtDesc, "cublasLtMatrixLayoutCreate": HLtLayout, "cublasLtMatmulPreferenceCreate": HLtPref} {
		if _, f, ok := Lookup(name); ok && (f.Params[0].Kind != OutHandle || f.Params[0].H != h || !f.Params[0].Minted) {
			t.Errorf("%s: its handle (%v of %v) is not one the client mints", name, f.Params[0].Kind, f.Params[0].H)
		}
	}
}
