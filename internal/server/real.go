package server

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ebitengine/purego"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/settings"
)

// Real runs calls on the host's driver: libcuda.so.1 and libnvidia-ml.so.1 through purego.
// The server host has no vgpu stub installed, so the plain names find NVIDIA's libraries;
// VGPU_REAL_LIBCUDA / VGPU_REAL_LIBNVML may name absolute paths instead.
// maxCallArgs: the most words a driver call takes (api.MaxParams).
const maxCallArgs = api.MaxParams

type Real struct {
	libs     [2]uintptr       // 0: libcuda, 1: libnvidia-ml
	syms     []atomic.Uintptr // resolved lazily; waiting calls run beside others (decision 14)
	nvmlOnce sync.Once
	nvmlErr  int32
	ptrs     []uintptr             // kernelParams of the launch being made
	fences   map[[2]uint64]uintptr // (context, stream) -> event after the last async shm upload
	smiOnce  sync.Once             // the host's private table for nvidia-smi (nvml_private_unsafe.go)
	smiTable uintptr
	smiErr   int32
}

var realPaths = [2]*settings.Setting[string]{settings.RealLibCUDA, settings.RealLibNVML}

// OpenReal loads the driver libraries. It does not initialise CUDA: the client's cuInit does.
func OpenReal() (*Real, error) {
	r := &Real{syms: make([]atomic.Uintptr, len(api.Table))}
	for i, p := range realPaths {
		name := p.Get()
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("cannot load %s: %w", name, err)
			}
			logger.Warn(fmt.Sprintf("cannot load %s (%v): NVML calls will fail", name, err), "library", name)
			continue
		}
		r.libs[i] = h
	}
	return r, nil
}

func (r *Real) Name() string { return "real" }

func (r *Real) Close() {}

// missingSym marks a symbol of Real.syms that the host library does not have.
const missingSym = ^uintptr(0)

// sym is the host library's symbol for row id, looked up once (a missing one is remembered as
// such): what Invoke and the executor (Real.call) call.
func (r *Real) sym(id api.ID, f *api.Func) uintptr {
	switch s := r.syms[id].Load(); s {
	case 0:
	case missingSym:
		return 0
	default:
		return s
	}
	lib := r.libs[0]
	switch f.Lib() {
	case api.LibNVML:
		lib = r.libs[1]
	case api.LibCublas13, api.LibCublasLt13:
		lib = cublasLib(f.Lib()) // loaded on first use (cublas_real.go)
	}
	if lib == 0 {
		return 0
	}
	s, err := purego.Dlsym(lib, f.ServerName())
	if err != nil {
		logOnce("sym:"+f.Name, fmt.Sprintf("the host driver has no %s: %v", f.ServerName(), err), "function", f.Name)
		r.syms[id].Store(missingSym)
		return 0
	}
	r.syms[id].Store(s)
	return s
}

func (r *Real) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	lib := f.Lib().Info()
	if f.Lib() == api.LibNVML {
		r.nvmlOnce.Do(r.initNVML)
		if r.nvmlErr != 0 {
			return r.nvmlErr
		}
	}
	fn := r.sym(id, f)
	if fn == 0 {
		return lib.NotSupported
	}
	var argv [maxCallArgs]uintptr
	for i := range f.Params {
		p := &f.Params[i]
		argv[i] = argWord(p.Kind, a, i)
	}
	r1 := ccall(fn, &argv)
	keepAlive(a)
	return int32(uint32(r1))
}

// initNVML initialises the host's NVML once per worker; the client's init/shutdown pairs are
// counted in the client and never reach the host.
func (r *Real) initNVML() {
	if r.libs[1] == 0 {
		r.nvmlErr = api.LibNVML.Info().Unreachable
		return
	}
	s, err := purego.Dlsym(r.libs[1], api.IDnvmlInit_v2.Func().ServerName())
	if err != nil {
		r.nvmlErr = api.LibNVML.Info().Unreachable
		return
	}
	r1, _, _ := purego.SyscallN(s)
	if r1 != 0 {
		logger.Error(fmt.Sprintf("host nvmlInit_v2 failed with %d", int32(r1)), "function", api.IDnvmlInit_v2.Func().Name, "code", int32(r1))
		r.nvmlErr = int32(r1)
	}
}

// ErrorString asks the host's driver (cuGetErrorString) or NVML (nvmlErrorString) for its text.
func (r *Real) ErrorString(lib api.Lib, code int32) (string, bool) {
	switch lib {
	case api.LibCuda:
		fn, err := purego.Dlsym(r.libs[0], api.IDcuGetErrorString.Func().ServerName())
		if err != nil {
			return "", false
		}
		var p uintptr
		r1, _, _ := purego.SyscallN(fn, uintptr(uint32(code)), addrOf(&p))
		if r1 != 0 || p == 0 {
			return "", false
		}
		return goString(p), true
	case api.LibNVML:
		if r.libs[1] == 0 {
			return "", false
		}
		fn, err := purego.Dlsym(r.libs[1], api.IDnvmlErrorString.Func().ServerName())
		if err != nil {
			return "", false
		}
		p, _, _ := purego.SyscallN(fn, uintptr(uint32(code)))
		if p == 0 {
			return "", false
		}
		return goString(p), true
	}
	return "", false
}
