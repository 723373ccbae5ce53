package api

// cublasTable: libcublas.so.13 and libcublasLt.so.13, what llama.cpp's ggml-cuda (its CUDA 13
// build) imports from them plus their small companions. Every other export is a Stub row
// (exports_cublas.go).
//
// A cublasHandle_t is a handle of the server (HCublas), bound there to the context that was
// current when it was created; the client makes that context current again before each call
// with the handle (internal/client/cublas.go). Streams are the driver's CUstream handles, as
// cudaStream_t is. Matrices, and the arrays of matrix pointers of the batched calls (device
// memory holding device pointers), are device addresses passed by value and not range-checked:
// a bad one faults only the session's own context.
//
// Scalars (alpha, beta): in cuBLAS's default pointer mode, CUBLAS_POINTER_MODE_HOST, they are
// host pointers, so they travel by value as input buffers and the server passes the address of
// its copy. In device pointer mode the client sends each such call as its twin, whose scalars
// are device addresses (cublasDeviceTwins, below).
// The S* functions' scalars are floats (4 bytes). The *Ex functions' scalar type follows the
// compute type (CublasScalarBytes): their client function reads that many bytes and sends them
// zero-padded to 16, the largest scalar (cuDoubleComplex), so the server's buffer always covers
// what cuBLAS reads, whatever the client claims.
//
// GEMMs, cublasSetStream_v2, cublasSetWorkspace_v2 and cublasSetMathMode (which ggml and PyTorch
// call before each of them), and the cuBLASLt creators, setters and destroyers PyTorch calls
// around each matmul, are Async, as launches are (docs/ARCHITECTURE.md, decision 9): a failure
// cuBLAS reports for one of them (a bad attribute or size, a create out of memory) is returned by
// the next synchronising call, with a log line naming it. The creators can be Async because the
// client mints their handles (P.Minted). What stays synchronous has outputs: the heuristic,
// which the client answers itself when asked again about objects of the same content (Cached).
var cublasTable = []Func{
	// ---- cuBLASLt matmul, as PyTorch uses it (2.11, its CUDA 13.0 build).
	// The lightHandle is a cublasHandle_t cast (PyTorch never calls cublasLtCreate). Descriptors,
	// layouts and preferences are handles the client mints (P.Minted), which the worker maps to
	// its library's; their attributes travel as bytes (device pointers in them, such as a bias,
	// are the GPU's own addresses). Scalars follow the matmul descriptor's scale type, which the
	// client remembers (internal/client/cublaslt.go).
	{Name: "cublasLtMatmulDescCreate", Stream: StreamNone, Libs: cublasLt, Serve: Async, Handler: "cublasLtMatmulDescCreate", Params: []P{minted("cublasLtMatmulDesc_t *", "matmulDesc", HLtDesc), scalar("cublasComputeType_t", "computeType"), scalar("cudaDataType_t", "scaleType")}},
	{Name: "cublasLtMatmulDescDestroy", Stream: StreamNone, Libs: cublasLt, Serve: Async, Handler: "cublasLtMatmulDescDestroy", Params: []P{{C: "cublasLtMatmulDesc_t", Name: "matmulDesc", Kind: Handle, H: HLtDesc, Frees: true}}},
	{Name: "cublasLtMatmulDescSetAttribute", Stream: StreamNone, Libs: cublasLt, Serve: Async, Handler: "cublasLtMatmulDescSetAttribute", Params: []P{{C: "cublasLtMatmulDesc_t", Name: "matmulDesc", Kind: Handle, H: HLtDesc, Sets: true}, scalar("cublasLtMatmulDescAttributes_t", "attr"), {C: "const void *", Name: "buf", Kind: InBuf, Size: "sizeInBytes"}, scalar("size_t", "sizeInBytes")}},
	{Name: "cublasLtMatrixLayoutCreate", Stream: StreamNone, Libs: cublasLt, Serve: Async, Params: []P{minted("cublasLtMatrixLayout_t *", "matLayout", HLtLayout), scalar("cudaDataType", "type"), scalar("uint64_t", "rows"), scalar("uint64_t", "cols"), scalar("int64_t", "ld")}},
	{Name: "cublasLtMatrixLayoutDestroy", Stream: StreamNone, Libs: cublasLt, Serve: Async, Params: []P{{C: "cublasLtMatrixLayout_t", Name: "matLayout", Kind: Handle, H: HLtLayout, Frees: true}}},
	{Name: "cublasLtMatrixLayoutSetAttribute", Stream: StreamNone, Libs: cublasLt, Serve: Async, Params: []P{{C: "cublasLtMatrixLayout_t", Name: "matLayout", Kind: Handle, H: HLtLayout, Sets: true}, scalar("cublasLtMatrixLayoutAttribute_t", "attr"), {C: "const void *", Name: "buf", Kind: InBuf, Size: "sizeInBytes"}, scalar("size_t", "sizeInBytes")}},
	{Name: "cublasLtMatmulPreferenceCreate", Stream: StreamNone, Libs: cublasLt, Serve: Async, Params: []P{minted("cublasLtMatmulPreference_t *", "pref", HLtPref)}},
	{Name: "cublasLtMatmulPreferenceDestroy", Stream: StreamNone, Libs: cublasLt, Serve: Async, Params: []P{{C: "cublasLtMatmulPreference_t", Name: "pref", Kind: Handle, H: HLtPref, Frees: true}}},
	{Name: "cublasLtMatmulPreferenceSetAttribute", Stream: StreamNone, Libs: cublasLt, Serve: Async, Params: []P{{C: "cublasLtMatmulPreference_t", Name: "pref", Kind: Handle, H: HLtPref, Sets: true}, scalar("cublasLtMatmulPreferenceAttributes_t", "attr"), {C: "const void *", Name: "buf", Kind: InBuf, Size: "sizeInBytes"}, scalar("size_t", "sizeInBytes")}},
	// cublasLtMatmulHeuristicResult_t: algo (64 bytes), workspaceSize, state, wavesCount, reserved[4]: 96 bytes.
	// Cached: the answer follows from the problem the objects describe (cuBLASLt keeps a cache of
	// its own keyed by it, CUBLASLT_HEURISTICS_CACHE_CAPACITY), on the handle's device, which is
	// the handle's for its life (cublasDestroy_v2 empties the client's cache); PyTorch asks it
	// before every GEMM, so a repeated shape costs no round trip.
	{Name: "cublasLtMatmulAlgoGetHeuristic", Stream: StreamNone, Libs: cublasLt, Handler: "cublasCall", Cached: true, Params: []P{ltH(), ltDesc("operationDesc"), ltLayout("Adesc"), ltLayout("Bdesc"), ltLayout("Cdesc"), ltLayout("Ddesc"),
		{C: "cublasLtMatmulPreference_t", Name: "preference", Kind: Handle, H: HLtPref}, scalar("int", "requestedAlgoCount"),
		{C: "cublasLtMatmulHeuristicResult_t *", Name: "heuristicResultsArray", Kind: OutBuf, Size: "requestedAlgoCount", Elem: 96}, out("int *", "returnAlgoCount", "4")}},
	// cublasLtMatmul: hand-written client (scalars by scale type, an optional algo); on the wire
	// vgpuLtMatmul, the same arguments with the algo's byte count (0 or 64) appended, which the
	// library ignores.
	{Name: "cublasLtMatmul", Libs: cublasLt, Serve: Local, Params: []P{hpC("cublasLtHandle_t", "lightHandle"), hpC("cublasLtMatmulDesc_t", "computeDesc"), hpC("const void *", "alpha"),
		hpC("const void *", "A"), hpC("cublasLtMatrixLayout_t", "Adesc"), hpC("const void *", "B"), hpC("cublasLtMatrixLayout_t", "Bdesc"), hpC("const void *", "beta"),
		hpC("const void *", "C"), hpC("cublasLtMatrixLayout_t", "Cdesc"), hpC("void *", "D"), hpC("cublasLtMatrixLayout_t", "Ddesc"),
		hpC("const cublasLtMatmulAlgo_t *", "algo"), hpC("void *", "workspace"), scalar("size_t", "workspaceSizeInBytes"), hpC("cudaStream_t", "stream")}},
	{Name: "vgpuLtMatmul", Libs: cublasLt, Internal: true, Serve: Async, NoLog: true, Server: "cublasLtMatmul", Params: []P{ltH(), ltDesc("computeDesc"), exScalar("alpha"),
		dev("const void *", "A"), ltLayout("Adesc"), dev("const void *", "B"), ltLayout("Bdesc"), exScalar("beta"),
		dev("const void *", "C"), ltLayout("Cdesc"), dev("void *", "D"), ltLayout("Ddesc"),
		{C: "const cublasLtMatmulAlgo_t *", Name: "algo", Kind: InBuf, Size: "algoBytes"}, dev("void *", "workspace"), scalar("size_t", "workspaceSizeInBytes"),
		{C: "cudaStream_t", Name: "stream", Kind: Handle, H: HStream, Nullable: true}, scalar("size_t", "algoBytes")}},

	// ---- handles and settings ----
	{Name: "cublasCreate_v2", Stream: StreamNone, Libs: cublas, Handler: "cublasCreate", Params: []P{outHandle("cublasHandle_t *", "handle", HCublas)}},
	{Name: "cublasDestroy_v2", Stream: StreamNone, Libs: cublas, Handler: "cublasDestroy", Params: []P{{C: "cublasHandle_t", Name: "handle", Kind: Handle, H: HCublas, Frees: true}}},
	{Name: "cublasSetStream_v2", Stream: StreamNone, Libs: cublas, Serve: Async, Handler: "cublasSetStream", NoLog: true, Params: []P{cublasH(), {C: "cudaStream_t", Name: "streamId", Kind: Handle, H: HStream, Nullable: true}}},
	{Name: "cublasGetStream_v2", Stream: StreamNone, Libs: cublas, Handler: "cublasCall", Params: []P{cublasH(), out("cudaStream_t *", "streamId", "8")}},
	{Name: "cublasSetMathMode", Stream: StreamNone, Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{cublasH(), scalar("cublasMath_t", "mode")}},
	{Name: "cublasGetMathMode", Stream: StreamNone, Libs: cublas, Handler: "cublasCall", Params: []P{cublasH(), out("cublasMath_t *", "mode", "4")}},
	{Name: "cublasSetWorkspace_v2", Stream: StreamNone, Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{cublasH(), {C: "void *", Name: "workspace", Kind: DevPtr}, scalar("size_t", "workspaceSizeInBytes")}},
	// Pointer mode: host only (see above); answered in the client.
	{Name: "cublasSetPointerMode_v2", Stream: StreamNone, Libs: cublas, Serve: Local, Params: []P{{C: "cublasHandle_t", Name: "handle", Kind: HostPtr}, scalar("cublasPointerMode_t", "mode")}},
	{Name: "cublasGetPointerMode_v2", Stream: StreamNone, Libs: cublas, Serve: Local, Params: []P{{C: "cublasHandle_t", Name: "handle", Kind: HostPtr}, {C: "cublasPointerMode_t *", Name: "mode", Kind: HostPtr}}},

	// ---- versions and status texts ----
	{Name: "cublasGetVersion_v2", Stream: StreamNone, Libs: cublas, Handler: "cublasCall", Params: []P{cublasH(), out("int *", "version", "4")}},
	{Name: "cublasGetProperty", Stream: StreamNone, Libs: cublas, Params: []P{scalar("libraryPropertyType", "type"), out("int *", "value", "4")}},
	{Name: "cublasGetCudartVersion", Stream: StreamNone, Libs: cublas, Serve: Local, Ret: "size_t"},
	{Name: "cublasGetStatusName", Stream: StreamNone, Libs: cublas, Serve: Local, Ret: "const char *", Params: []P{scalar("cublasStatus_t", "status")}},
	{Name: "cublasGetStatusString", Stream: StreamNone, Libs: cublas, Serve: Local, Ret: "const char *", Params: []P{scalar("cublasStatus_t", "status")}},
	{Name: "cublasLtGetProperty", Stream: StreamNone, Libs: cublasLt, Params: []P{scalar("libraryPropertyType", "type"), out("int *", "value", "4")}},
	{Name: "cublasLtGetVersion", Stream: StreamNone, Libs: cublasLt, Serve: Local, Ret: "size_t"},
	{Name: "cublasLtGetCudartVersion", Stream: StreamNone, Libs: cublasLt, Serve: Local, Ret: "size_t"},
	{Name: "cublasLtGetStatusName", Stream: StreamNone, Libs: cublasLt, Serve: Local, Ret: "const char *", Params: []P{scalar("cublasStatus_t", "status")}},
	{Name: "cublasLtGetStatusString", Stream: StreamNone, Libs: cublasLt, Serve: Local, Ret: "const char *", Params: []P{scalar("cublasStatus_t", "status")}},

	// ---- single precision (scalars: const float *, 4 bytes) ----
	{Name: "cublasSgemm_v2", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
		cublasH(), scalar("cublasOperation_t", "transa"), scalar("cublasOperation_t", "transb"),
		scalar("int", "m"), scalar("int", "n"), scalar("int", "k"),
		sScalar("alpha"), dev("const float *", "A"), scalar("int", "lda"), dev("const float *", "B"), scalar("int", "ldb"),
		sScalar("beta"), dev("float *", "C"), scalar("int", "ldc")}},
	{Name: "cublasSgemmBatched", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
		cublasH(), scalar("cublasOperation_t", "transa"), scalar("cublasOperation_t", "transb"),
		scalar("int", "m"), scalar("int", "n"), scalar("int", "k"),
		sScalar("alpha"), dev("const float *const *", "Aarray"), scalar("int", "lda"), dev("const float *const *", "Barray"), scalar("int", "ldb"),
		sScalar("beta"), dev("float *const *", "Carray"), scalar("int", "ldc"), scalar("int", "batchCount")}},
	{Name: "cublasSgemmStridedBatched", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
		cublasH(), scalar("cublasOperation_t", "transa"), scalar("cublasOperation_t", "transb"),
		scalar("int", "m"), scalar("int", "n"), scalar("int", "k"),
		sScalar("alpha"), dev("const float *", "A"), scalar("int", "lda"), scalar("long long int", "strideA"),
		dev("const float *", "B"), scalar("int", "ldb"), scalar("long long int", "strideB"),
		sScalar("beta"), dev("float *", "C"), scalar("int", "ldc"), scalar("long long int", "strideC"), scalar("int", "batchCount")}},
	{Name: "cublasStrsmBatched", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
		cublasH(), scalar("cublasSideMode_t", "side"), scalar("cublasFillMode_t", "uplo"), scalar("cublasOperation_t", "trans"),
		scalar("cublasDiagType_t", "diag"), scalar("int", "m"), scalar("int", "n"),
		sScalar("alpha"), dev("const float *const *", "A"), scalar("int", "lda"), dev("float *const *", "B"), scalar("int", "ldb"),
		scalar("int", "batchCount")}},

	// ---- mixed precision (scalars by compute type, sent as 16 bytes: see above) ----
	{Name: "cublasGemmEx", Libs: cublas, Serve: Async, Handler: "cublasGemmScaled", NoLog: true, Params: []P{
		cublasH(), scalar("cublasOperation_t", "transa"), scalar("cublasOperation_t", "transb"),
		scalar("int", "m"), scalar("int", "n"), scalar("int", "k"),
		exScalar("alpha"), dev("const void *", "A"), scalar("cudaDataType", "Atype"), scalar("int", "lda"),
		dev("const void *", "B"), scalar("cudaDataType", "Btype"), scalar("int", "ldb"),
		exScalar("beta"), dev("void *", "C"), scalar("cudaDataType", "Ctype"), scalar("int", "ldc"),
		scalar("cublasComputeType_t", "computeType"), scalar("cublasGemmAlgo_t", "algo")}},
	{Name: "cublasGemmBatchedEx", Libs: cublas, Serve: Async, Handler: "cublasGemmScaled", NoLog: true, Params: []P{
		cublasH(), scalar("cublasOperation_t", "transa"), scalar("cublasOperation_t", "transb"),
		scalar("int", "m"), scalar("int", "n"), scalar("int", "k"),
		exScalar("alpha"), dev("const void *const *", "Aarray"), scalar("cudaDataType", "Atype"), scalar("int", "lda"),
		dev("const void *const *", "Barray"), scalar("cudaDataType", "Btype"), scalar("int", "ldb"),
		exScalar("beta"), dev("void *const *", "Carray"), scalar("cudaDataType", "Ctype"), scalar("int", "ldc"),
		scalar("int", "batchCount"), scalar("cublasComputeType_t", "computeType"), scalar("cublasGemmAlgo_t", "algo")}},
	{Name: "cublasGemmStridedBatchedEx", Libs: cublas, Serve: Async, Handler: "cublasGemmScaled", NoLog: true, Params: []P{
		cublasH(), scalar("cublasOperation_t", "transa"), scalar("cublasOperation_t", "transb"),
		scalar("int", "m"), scalar("int", "n"), scalar("int", "k"),
		exScalar("alpha"), dev("const void *", "A"), scalar("cudaDataType", "Atype"), scalar("int", "lda"), scalar("long long int", "strideA"),
		dev("const void *", "B"), scalar("cudaDataType", "Btype"), scalar("int", "ldb"), scalar("long long int", "strideB"),
		exScalar("beta"), dev("void *", "C"), scalar("cudaDataType", "Ctype"), scalar("int", "ldc"), scalar("long long int", "strideC"),
		scalar("int", "batchCount"), scalar("cublasComputeType_t", "computeType"), scalar("cublasGemmAlgo_t", "algo")}},
}

// Every row above also serves libcublas.so.12 / libcublasLt.so.12: cuBLAS 12.6.4's cublas_api.h
// and cublasLt.h declare each with the same signature (cublasGemmEx and its batched forms take a
// cublasComputeType_t there too; the cudaDataType overloads are C++ inline wrappers that call
// it). The 13 library comes first: Lib() and the server's lookup stay those of 13.
var (
	cublas   = []Lib{LibCublas13, LibCublas12}
	cublasLt = []Lib{LibCublasLt13, LibCublasLt12}
)

// cublasH is the cublasHandle_t argument of a call on an existing handle.
func cublasH() P { return P{C: "cublasHandle_t", Name: "handle", Kind: Handle, H: HCublas} }

// ltH is a cublasLtHandle_t: a cublasHandle_t cast, as PyTorch passes it.
func ltH() P { return P{C: "cublasLtHandle_t", Name: "lightHandle", Kind: Handle, H: HCublas} }

// minted is the out-handle of a cuBLASLt creator, which the client mints (P.Minted).
func minted(c, name string, h HType) P {
	return P{C: c, Name: name, Kind: OutHandle, H: h, Minted: true}
}

func ltDesc(name string) P { return P{C: "cublasLtMatmulDesc_t", Name: name, Kind: Handle, H: HLtDesc} }

func ltLayout(name string) P {
	return P{C: "cublasLtMatrixLayout_t", Name: name, Kind: Handle, H: HLtLayout}
}

// CudaDataTypeBytes is the size of one value of a cudaDataType (library_types.h), for the
// scale type of a cuBLASLt matmul; ok is false for types that are not scalar types.
func CudaDataTypeBytes(t int32) (n int, ok bool) {
	switch t {
	case 2, 14: // CUDA_R_16F, CUDA_R_16BF
		return 2, true
	case 0, 10, 12: // CUDA_R_32F, CUDA_R_32I, CUDA_R_32U
		return 4, true
	case 1, 4: // CUDA_R_64F, CUDA_C_32F
		return 8, true
	case 5: // CUDA_C_64F
		return 16, true
	case 3, 8: // CUDA_R_8I, CUDA_R_8U
		return 1, true
	}
	return 0, false
}

// dev is a device address argument passed by value, unchecked.
func dev(c, name string) P { return P{C: c, Name: name, Kind: DevPtr} }

// hScalar is a host scalar of size bytes (alpha, beta in host pointer mode).
func hScalar(c, name, size string) P { return P{C: c, Name: name, Kind: InBuf, Size: size} }

// sScalar is a host float scalar (alpha, beta of the S* functions).
func sScalar(name string) P { return P{C: "const float *", Name: name, Kind: InBuf, Size: "4"} }

// exScalar is a host scalar of the *Ex functions, on the wire always CublasScalarWire bytes.
func exScalar(name string) P { return P{C: "const void *", Name: name, Kind: InBuf, Size: "16"} }

// CublasScalarWire is the byte count an *Ex function's alpha or beta travels as: the largest
// scalar type (cuDoubleComplex), the value zero-padded.
const CublasScalarWire = 16

// CublasScalarBytes is the size of the host scalars (alpha, beta) of cublasGemmEx and its batched
// forms for a compute type and the C matrix's data type (cublas_api.h, library_types.h):
// CUBLAS_COMPUTE_16F* take half (2 bytes), 32F* float (4), 64F* double (8), 32I* int32 (4); with
// a complex C (CUDA_C_*) the 32F and 64F kinds take cuComplex (8) and cuDoubleComplex (16). Old
// binaries may pass a cudaDataType as the compute type (CUDA 10's signature), which cuBLAS still
// accepts: CUDA_R_16F, _R_32F, _R_64F, _R_32I, _C_32F, _C_64F. ok is false for anything else.
func CublasScalarBytes(computeType, ctype int32) (n int, ok bool) {
	switch computeType {
	case 64, 65: // CUBLAS_COMPUTE_16F, _16F_PEDANTIC
		return 2, true
	case 68, 69, 74, 75, 77, 78: // CUBLAS_COMPUTE_32F, _PEDANTIC, _FAST_16F, _FAST_16BF, _FAST_TF32, _EMULATED_16BFX9
		n = 4
	case 70, 71, 79: // CUBLAS_COMPUTE_64F, _PEDANTIC, _EMULATED_FIXEDPOINT
		n = 8
	case 72, 73: // CUBLAS_COMPUTE_32I, _PEDANTIC
		return 4, true
	// cudaDataType as a compute type
	case 2: // CUDA_R_16F
		return 2, true
	case 0, 10: // CUDA_R_32F, CUDA_R_32I
		return 4, true
	case 1, 4: // CUDA_R_64F, CUDA_C_32F
		return 8, true
	case 5: // CUDA_C_64F
		return 16, true
	default:
		return 0, false
	}
	if cudaDataTypeComplex(ctype) {
		n *= 2
	}
	return n, true
}

// cudaDataTypeComplex: the CUDA_C_* values of cudaDataType (library_types.h).
func cudaDataTypeComplex(t int32) bool {
	switch t {
	case 4, 5, 6, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27: // C_32F, C_64F, C_16F, C_8I, C_8U, C_32I, C_32U, C_16BF, C_4I, C_4U, C_16I, C_16U, C_64I, C_64U
		return true
	}
	return false
}

// cublasStubRet is the C return type of the cuBLAS and cuBLASLt exports whose result is not a
// cublasStatus_t (cublas_api.h, cublasLt.h); stubRows gives it to their Stub rows, and the rows
// above that implement some of them must agree (TestCublasRet). The legacy API of cublas.h
// returns float, double, int, cuComplex, cuDoubleComplex or void: all come back in registers
// (no hidden result pointer on x86-64), so a parameterless stub returning an int is ABI-safe for
// them; only pointers and wider integers need their type.
var cublasStubRet = map[string]string{
	"cublasGetCudartVersion":   "size_t",
	"cublasGetStatusName":      "const char *",
	"cublasGetStatusString":    "const char *",
	"cublasXerbla":             "void",
	"cublasLtGetStatusName":    "const char *",
	"cublasLtGetStatusString":  "const char *",
	"cublasLtGetVersion":       "size_t",
	"cublasLtGetCudartVersion": "size_t",
	// cuBLASLt 12.6 only (cublasLt.h; not exported by libcublasLt.so.13).
	"cublasLtDisableCpuInstructionsSetMask": "unsigned",
}

// CublasStatusNames are the cublasStatus_t codes (cublas_api.h).
var CublasStatusNames = map[int32]string{
	0:  "CUBLAS_STATUS_SUCCESS",
	1:  "CUBLAS_STATUS_NOT_INITIALIZED",
	3:  "CUBLAS_STATUS_ALLOC_FAILED",
	7:  "CUBLAS_STATUS_INVALID_VALUE",
	8:  "CUBLAS_STATUS_ARCH_MISMATCH",
	11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED",
	14: "CUBLAS_STATUS_INTERNAL_ERROR",
	15: "CUBLAS_STATUS_NOT_SUPPORTED",
	16: "CUBLAS_STATUS_LICENSE_ERROR",
}

// cublasSolverRows: for each element type (S, D, C, Z, in that order) the six calls PyTorch
// imports that differ only in it: gemv, trsm, and the batched getrf, getrs, geqrf and gels.
func cublasSolverRows() []Func {
	var rows []Func
	for _, t := range []struct{ p, c, size string }{
		{"S", "float", "4"}, {"D", "double", "8"}, {"C", "cuComplex", "8"}, {"Z", "cuDoubleComplex", "16"},
	} {
		c, cc, arr, carr := t.c+" *", "const "+t.c+" *", t.c+" *const *", "const "+t.c+" *const *"
		rows = append(rows,
			Func{Name: "cublas" + t.p + "gemv_v2", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
				cublasH(), scalar("cublasOperation_t", "trans"), scalar("int", "m"), scalar("int", "n"), hScalar(cc, "alpha", t.size), dev(cc, "A"), scalar("int", "lda"), dev(cc, "x"), scalar("int", "incx"), hScalar(cc, "beta", t.size), dev(c, "y"), scalar("int", "incy")}},
			Func{Name: "cublas" + t.p + "trsm_v2", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
				cublasH(), scalar("cublasSideMode_t", "side"), scalar("cublasFillMode_t", "uplo"), scalar("cublasOperation_t", "trans"), scalar("cublasDiagType_t", "diag"), scalar("int", "m"), scalar("int", "n"), hScalar(cc, "alpha", t.size), dev(cc, "A"), scalar("int", "lda"), dev(c, "B"), scalar("int", "ldb")}},
			Func{Name: "cublas" + t.p + "getrfBatched", Libs: cublas, Serve: Async, Handler: "cublasCall", NoLog: true, Params: []P{
				cublasH(), scalar("int", "n"), dev(arr, "A"), scalar("int", "lda"), dev("int *", "P"), dev("int *", "info"), scalar("int", "batchSize")}},
			Func{Name: "cublas" + t.p + "getrsBatched", Libs: cublas, Handler: "cublasCall", NoLog: true, Params: []P{
				cublasH(), scalar("cublasOperation_t", "trans"), scalar("int", "n"), scalar("int", "nrhs"), dev(carr, "Aarray"), scalar("int", "lda"), dev("const int *", "devIpiv"), dev(arr, "Barray"), scalar("int", "ldb"), out("int *", "info", "4"), scalar("int", "batchSize")}},
			Func{Name: "cublas" + t.p + "geqrfBatched", Libs: cublas, Handler: "cublasCall", NoLog: true, Params: []P{
				cublasH(), scalar("int", "m"), scalar("int", "n"), dev(arr, "Aarray"), scalar("int", "lda"), dev(arr, "TauArray"), out("int *", "info", "4"), scalar("int", "batchSize")}},
			Func{Name: "cublas" + t.p + "gelsBatched", Libs: cublas, Handler: "cublasCall", NoLog: true, Params: []P{
				cublasH(), scalar("cublasOperation_t", "trans"), scalar("int", "m"), scalar("int", "n"), scalar("int", "nrhs"), dev(arr, "Aarray"), scalar("int", "lda"), dev(arr, "Carray"), scalar("int", "ldc"), out("int *", "info", "4"), dev("int *", "devInfoArray"), scalar("int", "batchSize")}},
		)
	}
	return rows
}

// PyTorch's other cuBLAS imports (its CUDA 13 build), host pointer mode: alpha and beta by
// value, a dot product's result and the LAPACK-style calls' host info as outputs (those calls
// wait for the reply: cuBLAS writes them before it returns). The rows past the solver ones are
// generated from cublas_api.h's prototypes (zz_cublas_torch.go, gen/cmd/apidata);
// test/gpu/torch_blas.py runs them on the GPU.
var cublasTorchTable = append(cublasSolverRows(), cublasTorchRows...)

// CublasDevicePrefix names the twin of a cuBLAS row with scalars for
// CUBLAS_POINTER_MODE_DEVICE: alpha, beta and a dot product's result are device addresses passed
// by value and left on the GPU (the worker's handle is in device mode then), and a call that
// waited only for its result no longer waits. The client picks the twin by the handle's mode
// (internal/client/cublas.go); twins are never exported.
const CublasDevicePrefix = "vgpuDevScalars_"

// cublasDeviceTwins derives the twins from the rows that take host scalars.
func cublasDeviceTwins(rows ...[]Func) []Func {
	var twins []Func
	for _, part := range rows {
		for _, f := range part {
			if f.Internal || f.Server != "" {
				continue // vgpu's own wire forms (cuBLASLt's matmul carries its scalars itself)
			}
			ps := append([]P(nil), f.Params...)
			changed, waits := false, false
			for i, p := range ps {
				switch {
				case (p.Name == "alpha" || p.Name == "beta") && p.Kind == InBuf:
					ps[i] = P{C: p.C, Name: p.Name, Kind: DevPtr}
					changed = true
				case p.Name == "result" && p.Kind == OutVal:
					ps[i] = P{C: p.C, Name: p.Name, Kind: DevPtr}
					changed = true
				case p.Kind == OutVal || p.Kind == OutBuf:
					waits = true // a host output that stays one (a LAPACK-style info)
				}
			}
			if !changed {
				continue
			}
			t := f
			t.Name, t.Server, t.Internal, t.Handler, t.Params = CublasDevicePrefix+f.Name, f.Name, true, "", ps
			if !waits {
				t.Serve = Async
			}
			twins = append(twins, t)
		}
	}
	return twins
}

// cublasDotEx's result has the size of its resultType: the client (cublasDotEx in
// internal/client/cublas.go) sends the call as vgpuDotEx, which carries that size as a last
// argument the real function does not read, or in device pointer mode as its twin.
var cublasDotExParams = []P{cublasH(), scalar("int", "n"), dev("const void *", "x"), scalar("cudaDataType", "xType"), scalar("int", "incx"),
	dev("const void *", "y"), scalar("cudaDataType", "yType"), scalar("int", "incy")}

var cublasDotExRows = []Func{
	{Name: "cublasDotEx", Libs: cublas, Serve: Local, Params: append(append([]P(nil), cublasDotExParams...),
		P{C: "void *", Name: "result", Kind: HostPtr}, scalar("cudaDataType", "resultType"), scalar("cudaDataType", "executionType"))},
	{Name: "vgpuDotEx", Server: "cublasDotEx", Libs: cublas, Internal: true, Params: append(append([]P(nil), cublasDotExParams...),
		P{C: "void *", Name: "result", Kind: OutBuf, Size: "resultBytes"}, scalar("cudaDataType", "resultType"), scalar("cudaDataType", "executionType"),
		scalar("size_t", "resultBytes"))},
	{Name: CublasDevicePrefix + "cublasDotEx", Server: "cublasDotEx", Libs: cublas, Internal: true, Serve: Async, Params: append(append([]P(nil), cublasDotExParams...),
		dev("void *", "result"), scalar("cudaDataType", "resultType"), scalar("cudaDataType", "executionType"))},
}

// cublasPointerModeRow sets the worker's handle to the client's pointer mode.
var cublasPointerModeRow = Func{Name: "vgpuCublasSetPointerMode", Stream: StreamNone, Server: "cublasSetPointerMode_v2", Libs: cublas, Internal: true,
	Params: []P{cublasH(), scalar("cublasPointerMode_t", "mode")}}
