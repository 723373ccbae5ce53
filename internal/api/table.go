package api

// Table is every exported function: the hand-described rows of each library, then a Stub row
// for every remaining export of the real libraries (exports_*.go). Order is the wire id; client
// and server are built together and compare TableHash at connect.
//
// To add a function: add a row to the library's table_*.go (C types exactly as NVIDIA's header
// declares them, using the typedefs in include/vgpu/), run `make generate`, and, for Serve: Local,
// write the Go function of that name (or its Handler) in internal/client (the build fails until it exists).
// Remote and Async rows need no code on the client; the server's real backend calls the
// same-named driver symbol, the sim backend answers what internal/server/sim*.go implements.
var Table = buildTable()

// explicitParts are the hand-described tables, in id order.
func explicitParts() [][]Func {
	return [][]Func{cudaTable, execTable, append(nvmlTable[:len(nvmlTable):len(nvmlTable)], processRows()...), cudartTable, launchTable, manualTable, cublasTable, cublasTorchTable,
		append(cublasDeviceTwins(cublasTable, cublasTorchTable), cublasPointerModeRow), cublasDotExRows}
}

func buildTable() []Func {
	var t []Func
	for _, part := range explicitParts() {
		t = append(t, part...)
	}
	return append(t, stubRows(t)...)
}

var (
	cu   = []Lib{LibCuda}
	nvml = []Lib{LibNVML}
	rt   = []Lib{LibCudart12, LibCudart13}
)

func scalar(c, name string) P { return P{C: c, Name: name, Kind: Scalar} }

func out(c, name, size string) P { return P{C: c, Name: name, Kind: OutVal, Size: size} }

func outHandle(c, name string, h HType) P { return P{C: c, Name: name, Kind: OutHandle, H: h} }

func stream(name string) P {
	return P{C: "CUstream", Name: name, Kind: Handle, H: HStream, Nullable: true}
}

func devRange(name, count string, elem int) P {
	return P{C: "CUdeviceptr", Name: name, Kind: DevPtr, Range: count, Elem: elem}
}
