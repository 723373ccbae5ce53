package client

import (
	"strings"
	"sync"

	"github.com/vgpu/vgpu/internal/abi"
	"github.com/vgpu/vgpu/internal/api"
)

// Hand-written functions (Serve: Local in the table). Each has the table row's name; the
// generated dispatch table refers to them, so a missing one fails the build.

// ---- driver API ----

func cuGetErrorName(c *call) int64 {
	arg := cuGetErrorNameArgs(c.a)
	name, ok := abi.CUresultNames[int32(arg.error())]
	if !ok {
		return c.invalid("unknown CUresult")
	}
	if arg.pStr() == 0 {
		return c.invalid("pStr is NULL")
	}
	store(arg.pStr(), internedCString(name))
	return 0
}

func cuGetErrorString(c *call) int64 {
	arg := cuGetErrorStringArgs(c.a)
	name, ok := abi.CUresultNames[int32(arg.error())]
	if !ok {
		return c.invalid("unknown CUresult")
	}
	if arg.pStr() == 0 {
		return c.invalid("pStr is NULL")
	}
	store(arg.pStr(), internedCString(errorText(api.LibCuda, int32(arg.error()), func() string { return describe(name, "CUDA_ERROR_", "no error") })))
	return 0
}

var (
	errTextMu sync.Mutex
	errTexts  = map[[2]int32]string{}
)

// errorText is the server's driver's own text for an error code, fetched once per code (so
// messages read exactly as on a local GPU); fallback when there is no server.
func errorText(lib api.Lib, code int32, fallback func() string) string {
	key := [2]int32{int32(lib), code}
	errTextMu.Lock()
	t, ok := errTexts[key]
	errTextMu.Unlock()
	if ok {
		return t
	}
	if s, err := getSession(); err != nil || s.broken != nil {
		return fallback()
	}
	buf := heapBytes(256)
	if r := remoteRow(lib, api.IDvgpuGetErrorString, uint64(lib), uint64(uint32(code)), ptrOf(&buf[0]), uint64(len(buf))); r != 0 {
		t = fallback()
	} else {
		t = stringUntilNUL(buf)
	}
	errTextMu.Lock()
	errTexts[key] = t
	errTextMu.Unlock()
	return t
}

// describe turns CUDA_ERROR_INVALID_VALUE into "invalid value".
func describe(name, prefix, success string) string {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return success
	}
	return strings.ToLower(strings.ReplaceAll(s, "_", " "))
}

var (
	cstrMu sync.Mutex
	cstrs  = map[string]uint64{}
)

// internedCString returns a C copy of s that lives as long as the process, one per distinct string.
func internedCString(s string) uint64 {
	cstrMu.Lock()
	defer cstrMu.Unlock()
	if p, ok := cstrs[s]; ok {
		return p
	}
	p := NewCString(s)
	cstrs[s] = p
	return p
}

// ---- NVML: initialisation is reference-counted (Ollama inits and shuts down on every query) ----

const (
	nvmlErrorUninitialized = 1
	nvmlErrorUnknown       = 999
)

var (
	nvmlMu   sync.Mutex
	nvmlRefs int
)

func nvmlInitialized() bool {
	nvmlMu.Lock()
	defer nvmlMu.Unlock()
	return nvmlRefs > 0
}

func nvmlInit_v2(c *call) int64 {
	if _, err := anySession(); err != nil {
		return int64(api.LibNVML.Info().Unreachable)
	}
	nvmlMu.Lock()
	nvmlRefs++
	nvmlMu.Unlock()
	return 0
}

func nvmlInitWithFlags(c *call) int64 { return nvmlInit_v2(c) }

func nvmlInit(c *call) int64 { return nvmlInit_v2(c) }

func nvmlShutdown(c *call) int64 {
	nvmlMu.Lock()
	defer nvmlMu.Unlock()
	if nvmlRefs == 0 {
		return nvmlErrorUninitialized
	}
	nvmlRefs--
	return 0
}

func nvmlErrorString(c *call) int64 {
	arg := nvmlErrorStringArgs(c.a)
	code := int32(uint32(arg.result()))
	name, ok := abi.NVMLReturnNames[code]
	if !ok {
		return int64(internedCString("Unknown Error"))
	}
	return int64(internedCString(errorText(api.LibNVML, code, func() string {
		words := strings.Fields(describe(name, "NVML_ERROR_", "Success"))
		for i, w := range words {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
		return strings.Join(words, " ")
	})))
}

// ---- runtime API ----

const (
	cudaErrorInvalidValue = 1
	cudaErrorNoDevice     = 100
)

// describeRuntime turns cudaErrorInvalidValue into "invalid value".
func describeRuntime(name string) string {
	s, ok := strings.CutPrefix(name, "cudaError")
	if !ok || s == "" {
		return "no error"
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// runtimeVersions: what cudaRuntimeGetVersion answers, by the ABI the consumer linked.
var runtimeVersions = map[api.Lib]int32{api.LibCudart12: 12090, api.LibCudart13: 13000}

func cudaRuntimeGetVersion(c *call) int64 {
	arg := cudaRuntimeGetVersionArgs(c.a)
	if arg.runtimeVersion() == 0 {
		return cudaErrorInvalidValue
	}
	store(arg.runtimeVersion(), runtimeVersions[c.lib])
	return 0
}

func cudaDriverGetVersion(c *call) int64 {
	arg := cudaDriverGetVersionArgs(c.a)
	if arg.driverVersion() == 0 {
		return cudaErrorInvalidValue
	}
	v := heapNew[int32]()
	if r := dispatchRow(api.LibCuda, api.IDcuDriverGetVersion, ptrOf(v)); r != 0 {
		// As the real runtime does without a driver: version 0, success.
		store(arg.driverVersion(), int32(0))
		return 0
	}
	store(arg.driverVersion(), *v)
	return 0
}
