package api

// ProcSymbol is one base name cuGetProcAddress resolves (procAddrData).
type ProcSymbol struct {
	Name string // as callers ask for it: "cuMemAlloc"
	// Versions, ascending: the exports chosen for the legacy default stream.
	Versions []ProcVersion
	// PerThread, ascending: the _ptds/_ptsz exports chosen when the flags ask for the
	// per-thread default stream (nil: the name has none, Versions serve both).
	PerThread []ProcVersion
}

// ProcVersion is one ABI variant of a driver entry point.
type ProcVersion struct {
	Since  int    // the CUDA version (1000*major + 10*minor) it appeared in
	Export string // the libcuda.so.1 export that serves it
}

// ProcAddr lists what cuGetProcAddress knows, for the generator (shims/cuda/zz_procaddr.c).
func ProcAddr() []ProcSymbol { return procAddrData }

// cuGetProcAddress flags and symbol status (cuda.h: CUdriverProcAddress_flags,
// CUdriverProcAddressQueryResult).
const (
	ProcAddrLegacyStream    = 1 << 0 // CU_GET_PROC_ADDRESS_LEGACY_STREAM
	ProcAddrPerThreadStream = 1 << 1 // CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM

	ProcAddrSuccess              = 0 // CU_GET_PROC_ADDRESS_SUCCESS
	ProcAddrSymbolNotFound       = 1 // CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND
	ProcAddrVersionNotSufficient = 2 // CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
)

// ProcLookup is the rule shims/cuda/manual.c implements in C, kept here to test the data
// against the real driver's answers: the export serving symbol at cudaVersion, or "" and why
// not. With the per-thread flag, a name that has per-thread variants is served only by them (a
// version older than the first one is VERSION_NOT_SUFFICIENT, as driver 580 answers); other
// names fall back to their legacy exports. Flags 0 means the legacy stream.
func ProcLookup(symbol string, cudaVersion int, flags uint64) (export string, status int) {
	for i := range procAddrData {
		s := &procAddrData[i]
		if s.Name != symbol {
			continue
		}
		vs := s.Versions
		if flags&ProcAddrPerThreadStream != 0 && len(s.PerThread) > 0 {
			vs = s.PerThread
		}
		for j := len(vs) - 1; j >= 0; j-- {
			if vs[j].Since <= cudaVersion {
				return vs[j].Export, ProcAddrSuccess
			}
		}
		return "", ProcAddrVersionNotSufficient
	}
	return "", ProcAddrSymbolNotFound
}
