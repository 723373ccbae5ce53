// Package api is the one table every exported C function of vgpu is written in.
//
// Each row describes one C function: its library (SONAME), its exact C signature, and how it is
// remoted. cmd/vgpugen turns the table into the C stubs (shims/*/zz_lib*.c), their version
// scripts (build/*.map), the client's dispatch (internal/client/zz_dispatch.go) and the C
// prototypes (include/vgpu/zz_prototypes.h). The client core and the server
// interpret the same rows at run time to marshal, check and execute calls, so adding a remoted
// function is adding a row; see docs/ARCHITECTURE.md.
package api

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Lib is one drop-in library (one SONAME).
type Lib uint8

const (
	LibCuda       Lib = iota // libcuda.so.1 (driver API, unversioned exports)
	LibNVML                  // libnvidia-ml.so.1 (unversioned exports)
	LibCudart12              // libcudart.so.12 (exports under version node libcudart.so.12)
	LibCudart13              // libcudart.so.13 (exports under version node libcudart.so.13)
	LibCublas13              // libcublas.so.13 (exports under version node libcublas.so.13)
	LibCublasLt13            // libcublasLt.so.13 (exports under version node libcublasLt.so.13)
	LibCublas12              // libcublas.so.12 (exports under version node libcublas.so.12)
	LibCublasLt12            // libcublasLt.so.12 (exports under version node libcublasLt.so.12)
	numLibs
)

// LibInfo is what the generator and the core need to know about a library.
type LibInfo struct {
	SONAME  string // e.g. "libcuda.so.1"
	Dir     string // shims/<Dir>
	Stem    string // file name stem of the generated C file and version script
	Version string // symbol version node; "" for unversioned libraries
	// Result codes the C stub and the core use without asking the server.
	NotInitialized int32 // returned in a forked child and when the core cannot be loaded
	NotSupported   int32 // returned by functions that are exported but not implemented yet
	InvalidValue   int32 // returned for a NULL output pointer or an out-of-range copy
	InvalidHandle  int32 // returned by the server for a handle the session does not own
	Unreachable    int32 // returned when the server cannot be reached
	// Foreign is returned by a synchronising call for an earlier async failure of another
	// library, whose code means something else here (client.finishSync): CUDA's and NVML's
	// "unknown error" (999), cuBLAS's CUBLAS_STATUS_EXECUTION_FAILED (13), which cuBLAS returns
	// once the GPU failed under it.
	Foreign int32
}

// Libs describes every library, indexed by Lib.
var Libs = [numLibs]LibInfo{
	LibCuda:     {SONAME: "libcuda.so.1", Dir: "cuda", Stem: "libcuda", NotInitialized: 3, NotSupported: 801, InvalidValue: 1, InvalidHandle: 400, Unreachable: 100, Foreign: 999},
	LibNVML:     {SONAME: "libnvidia-ml.so.1", Dir: "nvml", Stem: "libnvidia-ml", NotInitialized: 1, NotSupported: 3, InvalidValue: 2, InvalidHandle: 2, Unreachable: 9, Foreign: 999},
	LibCudart12: {SONAME: "libcudart.so.12", Dir: "cudart", Stem: "libcudart12", Version: "libcudart.so.12", NotInitialized: 3, NotSupported: 801, InvalidValue: 1, InvalidHandle: 400, Unreachable: 100, Foreign: 999},
	LibCudart13: {SONAME: "libcudart.so.13", Dir: "cudart", Stem: "libcudart13", Version: "libcudart.so.13", NotInitialized: 3, NotSupported: 801, InvalidValue: 1, InvalidHandle: 400, Unreachable: 100, Foreign: 999},
	// cublasStatus_t (cublas_api.h): NOT_INITIALIZED 1, INVALID_VALUE 7, NOT_SUPPORTED 15. cuBLAS
	// has no invalid-handle code: a handle it does not know is NOT_INITIALIZED, as natively.
	LibCublas13:   {SONAME: "libcublas.so.13", Dir: "cublas", Stem: "libcublas13", Version: "libcublas.so.13", NotInitialized: 1, NotSupported: 15, InvalidValue: 7, InvalidHandle: 1, Unreachable: 1, Foreign: 13},
	LibCublasLt13: {SONAME: "libcublasLt.so.13", Dir: "cublas", Stem: "libcublasLt13", Version: "libcublasLt.so.13", NotInitialized: 1, NotSupported: 15, InvalidValue: 7, InvalidHandle: 1, Unreachable: 1, Foreign: 13},
	// The CUDA 12 sonames: the same cublasStatus_t codes (cublas_api.h of cuBLAS 12.6.4).
	LibCublas12:   {SONAME: "libcublas.so.12", Dir: "cublas", Stem: "libcublas12", Version: "libcublas.so.12", NotInitialized: 1, NotSupported: 15, InvalidValue: 7, InvalidHandle: 1, Unreachable: 1, Foreign: 13},
	LibCublasLt12: {SONAME: "libcublasLt.so.12", Dir: "cublas", Stem: "libcublasLt12", Version: "libcublasLt.so.12", NotInitialized: 1, NotSupported: 15, InvalidValue: 7, InvalidHandle: 1, Unreachable: 1, Foreign: 13},
}

// AllLibs lists every Lib in order.
func AllLibs() []Lib {
	l := make([]Lib, numLibs)
	for i := range l {
		l[i] = Lib(i)
	}
	return l
}

func (l Lib) Info() *LibInfo { return &Libs[l] }
func (l Lib) String() string { return Libs[l].SONAME }

// Serve says who serves a row: the worker (Remote, Async), the client core alone (Local), or
// nobody (Stub). With Func.Handler it is all the client's dispatch (internal/client/zz_dispatch.go,
// from Func.ClientFunc) and the worker's acceptance of a call (Func.Served) depend on.
type Serve uint8

const (
	// Remote: the worker's backend runs it; the client marshals it from the table, sends it and
	// waits for the reply (or, with a Handler, hand-written Go does, and may send the row).
	Remote Serve = iota
	// Async: as Remote, sent without waiting; a failure is reported by the next synchronising
	// call (see Func.Syncs).
	Async
	// Local: answered in the client core by hand-written Go (Handler, or the function of the
	// row's name), which may in turn call other rows; the worker refuses it.
	Local
	// Stub: exported so that consumers resolve it, not implemented yet: returns the library's
	// NotSupported code and logs the name once per process.
	Stub
)

func (m Serve) String() string {
	return [...]string{"remote", "async", "local", "stub"}[m]
}

// StreamEffect says what a call of a row leaves on a stream, for the client's stream tracker
// (internal/client/streams.go), which answers a synchronisation of an idle stream itself.
type StreamEffect uint8

const (
	// StreamByMode: an Async row leaves work on the stream it names (on every stream, when it
	// names none), a synchronous row nothing; a cuBLAS row runs on its handle's stream.
	StreamByMode StreamEffect = iota
	// StreamWork: a synchronous row on device memory that may leave work queued on its stream or
	// the legacy stream (a copy).
	StreamWork
	// StreamUpload: the call only writes device memory from inputs it carries (a host-to-device
	// copy, a memset), synchronous or async; a stream holding only uploads is synchronised
	// without waiting.
	StreamUpload
	// StreamNone: nothing on any stream, though the row's library otherwise works on one (cuBLAS
	// handle configuration: streams, workspaces, modes, descriptors, versions).
	StreamNone
)

// ShmRoute says which way a host<->device copy row may move its bytes through the shared
// memory of a unix-socket session (internal/client/shm.go). Its parameters are (destination,
// source, ByteCount) and, for a fourth, the stream.
type ShmRoute uint8

const (
	ShmNone ShmRoute = iota
	ShmHtoD          // host to device; an Async row of 64 KiB up to a quarter of the memory takes the ring
	ShmDtoH          // device to host
)

// ProcessList is one of NVML's lists of a device's processes.
type ProcessList uint8

const (
	NoProcesses ProcessList = iota
	ComputeProcesses
	GraphicsProcesses
	MPSComputeProcesses
)

// Kind says how one parameter travels.
type Kind uint8

const (
	Scalar    Kind = iota // integer or enum by value
	Handle                // opaque driver handle by value; checked by the server against its tables
	DevPtr                // CUdeviceptr by value
	HostPtr               // a host pointer passed through as a value and never dereferenced
	OutVal                // pointer to Size bytes the callee writes (int*, size_t*, CUuuid*, ...)
	OutHandle             // pointer to a handle the callee creates
	OutDevPtr             // pointer to a CUdeviceptr the callee allocates (Size names the byte count param)
	InBuf                 // const pointer to Size bytes the callee reads
	OutBuf                // pointer to Size bytes the callee writes (Size names a length param)
	InStr                 // const char*, NUL-terminated
	InOutVal              // pointer to Size bytes the callee reads and writes (a versioned struct, a count)
)

var kindNames = [...]string{"Scalar", "Handle", "DevPtr", "HostPtr", "OutVal", "OutHandle", "OutDevPtr", "InBuf", "OutBuf", "InStr", "InOutVal"}

func (k Kind) String() string { return kindNames[k] }

// HType names a server handle table.
type HType uint8

const (
	HNone HType = iota
	HContext
	HStream
	HEvent
	HModule
	HFunction
	HNVMLDevice
	HMem       // CUmemGenericAllocationHandle
	HLibrary   // CUlibrary
	HKernel    // CUkernel
	HGraph     // CUgraph
	HGraphExec // CUgraphExec
	HCublas    // cublasHandle_t (also cast to cublasLtHandle_t)
	HLtDesc    // cublasLtMatmulDesc_t
	HLtLayout  // cublasLtMatrixLayout_t
	HLtPref    // cublasLtMatmulPreference_t
)

func (h HType) String() string {
	return [...]string{"none", "context", "stream", "event", "module", "function", "nvml device", "memory handle", "library", "kernel", "graph", "graph exec", "cublas handle", "cublasLt matmul descriptor", "cublasLt matrix layout", "cublasLt matmul preference"}[h]
}

// P is one parameter.
type P struct {
	C    string // exact C type, e.g. "int *", "CUdevice", "const void *"
	Name string
	Kind Kind
	// Size, for OutVal/InBuf: the fixed byte count ("4", "16"); for OutBuf/InBuf/OutDevPtr: the
	// name of the parameter that holds the byte count.
	Size string
	H    HType // for Handle/OutHandle
	// Range, for DevPtr: the name of the parameter holding the byte count that must lie
	// inside one allocation of the session ("" = the pointer is not range-checked here).
	Range string
	// Elem multiplies Range (memset D16 counts 2-byte elements), or an OutBuf's Size when that
	// names an InOutVal count (NVML's process lists: Size "infoCount", Elem 24).
	Elem int
	// Nullable: a NULL handle/pointer is valid (the default stream, an optional output).
	Nullable bool
	// Frees: this handle or allocation is released by the call.
	Frees bool
	// Times, for OutDevPtr: the parameter the Size parameter's value is multiplied by for the
	// created range's byte count (cuMemAllocPitch: Height rows of the returned pitch).
	Times string
	// Versioned: an InOutVal NVML struct whose first word is its version, NVML_STRUCT_VERSION's
	// sizeof | version << 24. Client and server refuse a version whose size is not Size with
	// NVML_ERROR_ARGUMENT_VERSION_MISMATCH: a struct of another size is neither read nor written.
	Versioned bool
	// Minted, for an OutHandle of an Async row: the client makes the handle itself (a value of
	// the minted range, MintedHandle, unique in its process), writes it to the caller's pointer
	// and sends it as the call's argument (on the wire a scalar, and no output of a reply), so
	// that creating the object costs no round trip. The worker runs the real create into a
	// buffer of its own and from then on gives the library the handle it returned wherever a
	// parameter of that handle type names the minted one (internal/server/session.go:
	// checkArgs, track). A create that fails in the worker is reported by the next
	// synchronising call, as any async failure; calls naming its handle are refused as calls
	// naming a handle the session does not own.
	Minted bool
	// Sets, on the Handle of a call that changes the object it names (a cuBLASLt attribute
	// setter): the client adds the call to what it knows of a minted handle's object, which
	// keys the answers of Cached rows.
	Sets bool
}

// MintBit marks a handle the client minted (P.Minted): MintBit | n, for n from 1 to MintMax.
// A host library's handle is a user-space address (below 2^56 on x86-64 and arm64, 5-level
// paging included) or a small integer, never one with bit 63, so a minted value never equals a
// real one; bits 56..62 stay clear for the tag the client gives the handles of a second server
// (internal/client/servers.go).
const (
	MintBit = uint64(1) << 63
	MintMax = uint64(1)<<56 - 1
)

// MintedHandle is the n-th handle a client mints (n from 1 to MintMax).
func MintedHandle(n uint64) uint64 { return MintBit | n&MintMax }

// IsMinted reports whether h is a minted handle (without a server's tag).
func IsMinted(h uint64) bool { return h&^MintMax == MintBit && h&MintMax != 0 }

// Func is one exported C function.
type Func struct {
	Name   string
	Libs   []Lib
	Ret    string // C return type; "" means the library's result type
	Params []P
	Serve  Serve
	// Syncs: the call synchronises with the device, so an earlier async failure is reported here.
	Syncs bool
	// Wait: the call only waits (for a stream, an event or the context's work) and changes
	// nothing. The worker lets a synchronous call of such a row go on waiting on its client
	// thread's own thread while it runs later calls of other client threads (decision 14);
	// every other call runs in the order the client sent it.
	Wait bool
	// Drains: the call waits for the device's work before it acts (cuMemFree_v2: freeing
	// synchronises the device natively). The worker runs a synchronous call of such a row as it
	// does a Wait row, beside later calls of other client threads, and forgets what it frees
	// before the driver frees it, so that an address the driver hands another thread meanwhile
	// stays recorded for its new owner.
	Drains bool
	// Idles: once the call returns, the streams it waited for are idle (cuStreamSynchronize's
	// stream, every stream of cuCtxSynchronize's, a device-to-host copy's stream, which the
	// worker synchronises before it replies): the client records them so (streams.go).
	Idles bool
	// Stream: what a call leaves on a stream.
	Stream StreamEffect
	// Shm: a large copy of this row moves through the shared memory in that direction.
	Shm ShmRoute
	// Since: the CUDA version (e.g. 12000) a versioned driver entry point appeared in, for
	// cuGetProcAddress; 0 where not applicable.
	Since int
	// Server: for remote calls, the function the server invokes ("" = Name).
	Server string
	// NoLog: do not trace (hot paths).
	NoLog bool
	// Chunk names the byte-count parameter by which the client splits a large copy into
	// pieces that each fit a frame; the pointers sized by it advance with each piece.
	Chunk string
	// Handler names the hand-written client function that serves the row: for a Local row (""
	// = the function of the row's name; "forward" for a Forward row), or for a Remote or Async
	// row, which it may answer itself (from the device cache, say) or send (remote(c)); the row
	// stays callable on the worker.
	Handler string
	// Internal: a vgpu-only server call (a batch), exported by no library.
	Internal bool
	// OwnProcess: an NVML process list (infoCount, infos). The server answers with the session's
	// own process alone (the worker's entry, under the pid the client gave in its Hello), never
	// another process of the GPU host: a client learns nothing of other sessions or programs.
	OwnProcess bool
	// Processes: which of NVML's process lists an OwnProcess row reads.
	Processes ProcessList
	// OutsOnError: outputs are returned whatever the result (NVML's INSUFFICIENT_SIZE answers
	// carry the needed count).
	OutsOnError bool
	// Forward: a runtime (cudart) Local row whose Handler "forward" (internal/client/forward.go)
	// calls the named driver row with the same arguments, in the calling thread's device
	// context; result codes carry over (cudaError_t and CUresult share the values that occur).
	Forward string
	// PTSZ: a per-thread-default-stream variant (_ptsz/_ptds): a NULL stream argument means
	// CU_STREAM_PER_THREAD.
	PTSZ bool
	// Manual: the C definition is hand-written in shims/<dir>/manual.c (a struct returned by
	// value, or cuGetProcAddress, which must answer without entering the core); the generator
	// only lists it in the version script (and zz_prototypes.h) and still gives it an id.
	Manual bool
	// Cached: the call's answer (its result and outputs) is a function of its scalar and input
	// arguments and of the objects its minted handles name, each known by its create and every
	// Sets call on it since, in order: the client answers a call it has seen from a cache
	// (internal/client/memo.go), without a round trip. cuBLASLt's heuristic, which PyTorch asks
	// before every GEMM. A handle it names that is not minted is part of the key by value; a
	// call that frees a handle of such a type empties the cache.
	Cached bool
}

// ClientFunc is the Go function of internal/client that the client's dispatch calls for the row:
// its Handler, else by its Serve (remote, remoteAsync, the function of the row's name,
// unsupported).
func (f *Func) ClientFunc() string {
	switch {
	case f.Handler != "":
		return f.Handler
	case f.Serve == Remote:
		return "remote"
	case f.Serve == Async:
		return "remoteAsync"
	case f.Serve == Local:
		return f.Name
	}
	return "unsupported"
}

// Served says whether the worker runs calls of the row (Remote and Async rows).
func (f *Func) Served() bool { return f.Serve == Remote || f.Serve == Async }

// MaxParams bounds a row's parameters: cublasGemmStridedBatchedEx has 23, and the real backend
// passes them as machine words through purego (at most 32).
const MaxParams = 24

// ID is a function's index in Table; stable within one build (checked by TableHash at connect).
type ID uint32

// Func is row id.
func (id ID) Func() *Func { return &Table[id] }

// ResultType is the C result type of the library's API.
func (l Lib) ResultType() string {
	switch l {
	case LibCuda:
		return "CUresult"
	case LibNVML:
		return "nvmlReturn_t"
	case LibCublas13, LibCublasLt13, LibCublas12, LibCublasLt12:
		return "cublasStatus_t"
	default:
		return "cudaError_t"
	}
}

// RetType is the C return type of f.
func (f *Func) RetType() string {
	if f.Ret != "" {
		return f.Ret
	}
	return f.Libs[0].ResultType()
}

// ServerName is the symbol the server-side backend runs for f.
func (f *Func) ServerName() string {
	if f.Server != "" {
		return f.Server
	}
	return f.Name
}

// ServerRow is the row named by the function the server invokes for row id (id itself unless
// Server names another row); ok is false where Server names a function without a row.
func ServerRow(id ID) (ID, bool) {
	r := links[id].server
	return r, r != noRow
}

// ForwardRow is the driver row a Forward row is served by; ok is false for a row that is not one.
func ForwardRow(id ID) (ID, bool) {
	r := links[id].forward
	return r, r != noRow
}

// DeviceTwin is the twin of a cuBLAS row with scalars for CUBLAS_POINTER_MODE_DEVICE
// (CublasDevicePrefix); ok is false for a row without one.
func DeviceTwin(id ID) (ID, bool) {
	r := links[id].twin
	return r, r != noRow
}

// noRow marks a link to no row.
const noRow = ^ID(0)

// links are the rows each row names (Server, Forward, its twin), resolved once.
var links []struct{ server, forward, twin ID }

func resolveLinks() {
	links = make([]struct{ server, forward, twin ID }, len(Table))
	for i := range Table {
		l := &links[i]
		l.server, l.forward, l.twin = ID(i), noRow, noRow
	}
	for i := range Table {
		f := &Table[i]
		if f.Server != "" {
			links[i].server = noRow
			if id, ok := byName[f.Server]; ok {
				links[i].server = id
			}
		}
		if id, ok := byName[f.Forward]; ok && f.Forward != "" {
			links[i].forward = id
		}
		if orig, ok := strings.CutPrefix(f.Name, CublasDevicePrefix); ok {
			if id, ok := byName[orig]; ok {
				links[id].twin = ID(i)
			}
		}
	}
}

// Lib is the library whose error codes f uses.
func (f *Func) Lib() Lib { return f.Libs[0] }

// SpecNumber reads a Size or Range that is a number ("8"); ok is false for one that names a
// parameter. (Without the allocation strconv makes for the error of a name: it runs per call.)
func SpecNumber(spec string) (n uint64, ok bool) {
	if spec == "" {
		return 0, false
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c < '0' || c > '9' || n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// ParamIndex returns the index of the parameter called name, or -1.
func (f *Func) ParamIndex(name string) int {
	for i := range f.Params {
		if f.Params[i].Name == name {
			return i
		}
	}
	return -1
}

// IDConsts gives the name of each row's ID constant in internal/api/zz_ids.go, by id: "ID" and
// the row's C name; a name's later rows (one name serves libcudart.so.12 and .13 in two rows
// where their signatures differ) add "_" and the first library's file stem.
func IDConsts() []string {
	names := make([]string, len(Table))
	seen := make(map[string]bool, len(Table))
	for i := range Table {
		f := &Table[i]
		names[i] = "ID" + f.Name
		if seen[f.Name] {
			names[i] += "_" + f.Lib().Info().Stem
		}
		seen[f.Name] = true
	}
	return names
}

var byName map[string]ID

func init() {
	byName = make(map[string]ID, len(Table))
	for i := range Table {
		if _, dup := byName[Table[i].Name]; !dup { // a name may serve libcudart.so.12 and .13 in two rows
			byName[Table[i].Name] = ID(i)
		}
	}
	resolveLinks()
	if err := Validate(); err != nil {
		panic(err)
	}
}

// Lookup finds a function by exported name (the first row of that name).
func Lookup(name string) (ID, *Func, bool) {
	id, ok := byName[name]
	if !ok {
		return 0, nil, false
	}
	return id, &Table[id], true
}

// Validate checks the table for rows the generator and the marshaller cannot serve.
func Validate() error {
	type export struct {
		name string
		lib  Lib
	}
	seen := map[export]bool{}
	for i := range Table {
		f := &Table[i]
		if len(f.Libs) == 0 {
			return fmt.Errorf("api: %s has no library", f.Name)
		}
		// One name may have several rows (a libcudart.so.12 and a .13 signature), one per library.
		for _, l := range f.Libs {
			if seen[export{f.Name, l}] {
				return fmt.Errorf("api: %s listed twice for %s", f.Name, l)
			}
			seen[export{f.Name, l}] = true
		}
		if len(f.Params) > MaxParams {
			return fmt.Errorf("api: %s has %d params, at most %d", f.Name, len(f.Params), MaxParams)
		}
		for _, p := range f.Params {
			if strings.Contains(p.C, "float") && !strings.Contains(p.C, "*") || strings.Contains(p.C, "double") && !strings.Contains(p.C, "*") {
				return fmt.Errorf("api: %s: %s passes a float by value; mark the function Local and hand-write its stub", f.Name, p.Name)
			}
			switch p.Kind {
			case OutVal, InOutVal:
				if p.Size == "" {
					return fmt.Errorf("api: %s: %s needs a Size", f.Name, p.Name)
				}
			case InBuf, OutBuf, OutDevPtr:
				if p.Size == "" {
					return fmt.Errorf("api: %s: %s needs a Size", f.Name, p.Name)
				}
				if !isNumber(p.Size) && f.ParamIndex(p.Size) < 0 {
					return fmt.Errorf("api: %s: %s: size param %q not found", f.Name, p.Name, p.Size)
				}
			case DevPtr:
				if p.Range != "" && f.ParamIndex(p.Range) < 0 {
					return fmt.Errorf("api: %s: %s: range param %q not found", f.Name, p.Name, p.Range)
				}
			}
			if p.Times != "" && (p.Kind != OutDevPtr || f.ParamIndex(p.Times) < 0) {
				return fmt.Errorf("api: %s: %s: Times names no parameter, or is not on an OutDevPtr", f.Name, p.Name)
			}
		}
		for _, p := range f.Params {
			if n, ok := SpecNumber(p.Size); p.Versioned && (p.Kind != InOutVal || !ok || n < 4 || n >= 1<<24 || f.Lib() != LibNVML) {
				return fmt.Errorf("api: %s: %s: only a fixed-size NVML InOutVal struct is Versioned", f.Name, p.Name)
			}
		}
		if _, ok := byName[f.Forward]; f.Forward != "" && !ok {
			return fmt.Errorf("api: %s forwards to %s, which has no row", f.Name, f.Forward)
		}
		if (f.Forward != "") != (f.Handler == "forward") || f.Forward != "" && f.Serve != Local {
			return fmt.Errorf("api: %s: a Forward row is a Local row with Handler \"forward\", and only it", f.Name)
		}
		if f.Handler != "" && f.Serve == Stub {
			return fmt.Errorf("api: %s: a Stub row has no Handler", f.Name)
		}
		if f.OwnProcess != (f.Processes != NoProcesses) {
			return fmt.Errorf("api: %s: an OwnProcess row, and only one, says which Processes it lists", f.Name)
		}
		if f.Shm != ShmNone {
			ps := f.Params
			dst, src := DevPtr, InBuf
			if f.Shm == ShmDtoH {
				dst, src = OutBuf, DevPtr
			}
			if len(ps) < 3 || len(ps) > 4 || ps[0].Kind != dst || ps[1].Kind != src || ps[2].Kind != Scalar || len(ps) == 4 && ps[3].H != HStream {
				return fmt.Errorf("api: %s: a shared-memory route needs (destination, source, ByteCount[, stream]) parameters", f.Name)
			}
		}
		if f.Serve == Async {
			for _, p := range f.Params {
				if (p.Kind == OutVal || p.Kind == OutBuf || p.Kind == OutHandle || p.Kind == OutDevPtr || p.Kind == InOutVal) && !p.Minted {
					return fmt.Errorf("api: %s is async but has output %s", f.Name, p.Name)
				}
			}
		}
		if err := validateMinted(f); err != nil {
			return err
		}
		if err := validateCached(f); err != nil {
			return err
		}
	}
	return nil
}

// validateCached refuses a Sets trait off a Handle that the call does not free, and a Cached
// row that is not a synchronous row without in-out or device parameters (whose answer could
// depend on more than its arguments) or that sets or mints.
func validateCached(f *Func) error {
	for _, p := range f.Params {
		if p.Sets && (p.Kind != Handle || p.Frees || f.Cached) {
			return fmt.Errorf("api: %s: %s: only a Handle that is not freed, of a row that is not Cached, Sets", f.Name, p.Name)
		}
		if f.Cached && (p.Kind == InOutVal || p.Kind == DevPtr || p.Kind == OutDevPtr || p.Kind == OutHandle || p.Kind == HostPtr || p.Frees) {
			return fmt.Errorf("api: %s: a Cached row's answer must follow from its arguments; %s is %v", f.Name, p.Name, p.Kind)
		}
	}
	if f.Cached && f.Serve != Remote {
		return fmt.Errorf("api: %s: only a Remote row is Cached", f.Name)
	}
	return nil
}

// validateMinted refuses a Minted parameter that is not the one OutHandle (of a handle type, not
// Nullable) of an Async row: the client mints at most one handle a call, and only where the
// call needs no reply.
func validateMinted(f *Func) error {
	minted := 0
	for _, p := range f.Params {
		if !p.Minted {
			continue
		}
		if minted++; p.Kind != OutHandle || p.Nullable || p.H == HNone || f.Serve != Async {
			return fmt.Errorf("api: %s: %s: only an OutHandle of an Async row is Minted (of a handle type, not Nullable)", f.Name, p.Name)
		}
	}
	if minted > 1 {
		return fmt.Errorf("api: %s mints %d handles, at most one", f.Name, minted)
	}
	return nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TableHash identifies the table's shape; client and server refuse each other when it differs.
func TableHash() uint64 {
	h := fnv.New64a()
	for i := range Table {
		f := &Table[i]
		fmt.Fprintf(h, "%s/%d/%d;", f.Name, f.Serve, f.Libs)
		for _, p := range f.Params {
			fmt.Fprintf(h, "%s,%d,%s,%d,%s,%d,%v,%v,%v,%v;", p.C, p.Kind, p.Size, p.H, p.Range, p.Elem, p.Nullable, p.Frees, p.Versioned, p.Minted)
		}
	}
	return h.Sum64()
}

// CreatedRangeSize is the byte count of the device range an OutDevPtr parameter p of f receives:
// the parameter its Size names, times the one its Times names if any (cuMemAllocPitch: the
// height times the returned pitch), each as a value (arg) or as an output the call wrote (out).
// The client (from the caller's pointers) and the worker (from its buffers) both track the
// ranges calls create with it.
func (f *Func) CreatedRangeSize(p *P, arg func(i int) uint64, out func(i int) uint64) uint64 {
	n := f.paramValue(p.Size, arg, out)
	if p.Times != "" {
		n *= f.paramValue(p.Times, arg, out)
	}
	return n
}

// paramValue is the value of the parameter called name: an argument, or for an OutVal the
// output the call wrote; 0 for no such parameter.
func (f *Func) paramValue(name string, arg func(i int) uint64, out func(i int) uint64) uint64 {
	j := f.ParamIndex(name)
	switch {
	case j < 0:
		return 0
	case f.Params[j].Kind == OutVal:
		return out(j)
	}
	return arg(j)
}
