package server

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/ranges"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Sim is the simulated device for hosts without a GPU, so the demo and CI run anywhere. Host
// memory stands in for device memory; copies, memsets, streams and events behave like CUDA's
// (synchronously). Its name says what it is, so nobody mistakes it for a GPU.
type Sim struct {
	mem      map[uint64][]byte
	allocs   ranges.Set
	next     uint64 // next device address
	used     uint64
	handles  uint64
	ctxs     map[uint64]bool
	current  uint64
	primary  uint64
	primRefs int
	primFlag uint32 // the primary context's flags (cuDevicePrimaryCtxSetFlags)
	events   map[uint64]time.Time
	inited   bool
}

// The simulated device's fixed description.
const (
	SimName       = "vgpu simulated device (no GPU)"
	simTotalMem   = 4 << 30
	simDriver     = 13000
	simNVMLDriver = "580.00-vgpu-sim"
	simPCIBusID   = "00000000:00:00.0"
)

var simUUID = [16]byte{'v', 'g', 'p', 'u', '-', 's', 'i', 'm', 0, 0, 0, 0, 0, 0, 0, 1}

// simAttrs are the CUdevice_attribute values of the simulated device (an H100-like shape);
// unlisted attributes read 0.
var simAttrs = map[int32]int32{
	1: 1024, 2: 1024, 3: 1024, 4: 64, // max threads per block, block dims
	5: 2147483647, 6: 65535, 7: 65535, // grid dims
	8: 49152, 9: 65536, 10: 32, 11: 2147483647, 12: 65536, 13: 1980000, 14: 512,
	15: 1, 16: 132, 17: 0, 18: 0, 19: 1, 20: 0, // gpu overlap, SMs, timeout, integrated, map host, compute mode
	31: 1, 32: 1, 33: 0, 34: 0, 35: 0, 36: 3201000, 37: 5120, 38: 52428800, 39: 2048,
	40: 2, 41: 1, 75: 9, 76: 0, // async engines, unified addressing, compute capability 9.0
	78: 1, 79: 1, 80: 1, 81: 233472, 82: 65536, 83: 1, 84: 0, 85: 0, 86: 0, 87: 0, 88: 0, 89: 1,
	90: 1, 91: 0, 95: 1, 97: 227 << 10, 106: 32, 111: 1024, 102: 1, // VMM supported, optin smem
}

// NewSim returns an empty simulated device.
func NewSim() *Sim {
	return &Sim{mem: map[uint64][]byte{}, next: 0x7f0000000000, ctxs: map[uint64]bool{}, events: map[uint64]time.Time{}}
}

func (s *Sim) Name() string { return "sim" }

func (s *Sim) Close() {}

// simFuncs are the functions the simulated device implements, by name.
var simFuncs map[string]func(s *Sim, a *Args) int32

func (s *Sim) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	fn, ok := simFuncs[f.ServerName()]
	if !ok {
		code := f.Lib().Info().NotSupported
		vlog.Once("sim:"+f.Name, "the simulated device does not implement %s (returning %d)", f.Name, code)
		return code
	}
	if f.Lib() == api.LibCuda && f.Name != "cuInit" && f.Name != "cuDriverGetVersion" && !s.inited {
		return 3 // CUDA_ERROR_NOT_INITIALIZED
	}
	return fn(s, a)
}

func put32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func put64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

func (s *Sim) newHandle() uint64 {
	s.handles++
	return 0x5100000 + s.handles*16
}

// dev returns n bytes of simulated device memory at p (the session checked the range).
func (s *Sim) dev(p, n uint64) []byte {
	base, _, ok := s.allocs.Find(p, n)
	if !ok {
		return nil
	}
	return s.mem[base][p-base : p-base+n]
}

func putString(b []byte, str string) {
	n := copy(b, str)
	if n < len(b) {
		b[n] = 0
	} else if len(b) > 0 {
		b[len(b)-1] = 0
	}
}

const (
	cuErrInvalidValue   = 1
	cuErrOutOfMemory    = 2
	cuErrInvalidDevice  = 101
	cuErrInvalidContext = 201
	cuErrNotReady       = 600
	nvmlErrInsufficient = 7
	nvmlErrNotFound     = 6
)

func simDevice(v uint64) bool { return int32(uint32(v)) == 0 }

func init() {
	devFn := func(arg int, fn func(s *Sim, a *Args) int32) func(s *Sim, a *Args) int32 {
		return func(s *Sim, a *Args) int32 {
			if !simDevice(a.Vals[arg]) {
				return cuErrInvalidDevice
			}
			return fn(s, a)
		}
	}
	ok := func(s *Sim, a *Args) int32 { return 0 }
	simFuncs = map[string]func(s *Sim, a *Args) int32{
		"cuInit": func(s *Sim, a *Args) int32 {
			if a.Vals[0] != 0 {
				return cuErrInvalidValue
			}
			s.inited = true
			return 0
		},
		"cuDriverGetVersion": func(s *Sim, a *Args) int32 { put32(a.Out[0], simDriver); return 0 },
		"cuDeviceGetCount":   func(s *Sim, a *Args) int32 { put32(a.Out[0], 1); return 0 },
		"cuDeviceGet": func(s *Sim, a *Args) int32 {
			if !simDevice(a.Vals[1]) {
				return cuErrInvalidDevice
			}
			put32(a.Out[0], 0)
			return 0
		},
		"cuDeviceGetName":     devFn(2, func(s *Sim, a *Args) int32 { putString(a.Out[0], SimName); return 0 }),
		"cuDeviceGetUuid":     devFn(1, func(s *Sim, a *Args) int32 { copy(a.Out[0], simUUID[:]); return 0 }),
		"cuDeviceGetUuid_v2":  devFn(1, func(s *Sim, a *Args) int32 { copy(a.Out[0], simUUID[:]); return 0 }),
		"cuDeviceTotalMem_v2": devFn(1, func(s *Sim, a *Args) int32 { put64(a.Out[0], simTotalMem); return 0 }),
		"cuDeviceGetAttribute": devFn(2, func(s *Sim, a *Args) int32 {
			attr := int32(uint32(a.Vals[1]))
			if attr <= 0 || attr > 200 {
				return cuErrInvalidValue
			}
			put32(a.Out[0], uint32(simAttrs[attr]))
			return 0
		}),
		"cuDeviceGetPCIBusId": devFn(2, func(s *Sim, a *Args) int32 {
			if len(a.Out[0]) < len(simPCIBusID)+1 {
				return cuErrInvalidValue
			}
			putString(a.Out[0], simPCIBusID)
			return 0
		}),
		"cuDeviceGetByPCIBusId": func(s *Sim, a *Args) int32 {
			id := string(a.In[1][:len(a.In[1])-1])
			if id != simPCIBusID && id != simPCIBusID[4:] {
				return cuErrInvalidDevice
			}
			put32(a.Out[0], 0)
			return 0
		},
		"cuDevicePrimaryCtxRetain": devFn(1, func(s *Sim, a *Args) int32 {
			if s.primary == 0 {
				s.primary = s.newHandle()
				s.ctxs[s.primary] = true
			}
			s.primRefs++
			put64(a.Out[0], s.primary)
			return 0
		}),
		"cuDevicePrimaryCtxRelease_v2": devFn(0, func(s *Sim, a *Args) int32 {
			if s.primRefs == 0 {
				return cuErrInvalidContext
			}
			s.primRefs--
			return 0
		}),
		// a reset keeps the context's handle (as the driver does) and frees nothing the sim holds
		"cuDevicePrimaryCtxReset_v2": devFn(0, func(s *Sim, a *Args) int32 { return 0 }),
		"cuDevicePrimaryCtxSetFlags_v2": devFn(0, func(s *Sim, a *Args) int32 {
			const known = 0x07 | 0x08 | 0x10 | 0x20 // scheduling, map host, keep local memory, coredump
			if f := uint32(a.Vals[1]); f&^known != 0 || f&0x07 == 0x03 || f&0x07 > 0x04 {
				return 1 // CUDA_ERROR_INVALID_VALUE
			}
			s.primFlag = uint32(a.Vals[1])
			return 0
		}),
		"cuDevicePrimaryCtxGetState": devFn(0, func(s *Sim, a *Args) int32 {
			put32(a.Out[1], s.primFlag)
			active := uint32(0)
			if s.primRefs > 0 {
				active = 1
			}
			put32(a.Out[2], active)
			return 0
		}),
		"cuCtxCreate_v2": devFn(2, func(s *Sim, a *Args) int32 {
			h := s.newHandle()
			s.ctxs[h] = true
			s.current = h
			put64(a.Out[0], h)
			return 0
		}),
		"cuCtxDestroy_v2": func(s *Sim, a *Args) int32 {
			delete(s.ctxs, a.Vals[0])
			if s.current == a.Vals[0] {
				s.current = 0
			}
			return 0
		},
		"cuCtxGetCurrent": func(s *Sim, a *Args) int32 { put64(a.Out[0], s.current); return 0 },
		"cuCtxSetCurrent": func(s *Sim, a *Args) int32 { s.current = a.Vals[0]; return 0 },
		"cuCtxGetDevice": func(s *Sim, a *Args) int32 {
			if s.current == 0 {
				return cuErrInvalidContext
			}
			put32(a.Out[0], 0)
			return 0
		},
		"cuCtxSynchronize": ok,
		"cuMemGetInfo_v2": func(s *Sim, a *Args) int32 {
			put64(a.Out[0], simTotalMem-s.used)
			put64(a.Out[1], simTotalMem)
			return 0
		},
		"cuMemAlloc_v2": func(s *Sim, a *Args) int32 {
			n := a.Vals[1]
			if n == 0 {
				return cuErrInvalidValue
			}
			if n > simTotalMem-s.used {
				return cuErrOutOfMemory
			}
			p := s.next
			s.next += (n + 0xfffff) &^ 0xfffff // 1 MiB steps keep allocations apart
			s.mem[p] = make([]byte, n)
			s.allocs.Add(p, n)
			s.used += n
			put64(a.Out[0], p)
			return 0
		},
		"cuMemFree_v2": func(s *Sim, a *Args) int32 {
			p := a.Vals[0]
			b, okk := s.mem[p]
			if !okk {
				return cuErrInvalidValue
			}
			s.used -= uint64(len(b))
			delete(s.mem, p)
			s.allocs.Remove(p)
			return 0
		},
		"cuMemcpyHtoD_v2":      func(s *Sim, a *Args) int32 { copy(s.dev(a.Vals[0], a.Vals[2]), a.In[1]); return 0 },
		"cuMemcpyHtoDAsync_v2": func(s *Sim, a *Args) int32 { copy(s.dev(a.Vals[0], a.Vals[2]), a.In[1]); return 0 },
		"cuMemcpyDtoH_v2":      func(s *Sim, a *Args) int32 { copy(a.Out[0], s.dev(a.Vals[1], a.Vals[2])); return 0 },
		"cuMemcpyDtoD_v2": func(s *Sim, a *Args) int32 {
			copy(s.dev(a.Vals[0], a.Vals[2]), s.dev(a.Vals[1], a.Vals[2]))
			return 0
		},
		"cuMemcpyDtoDAsync_v2": func(s *Sim, a *Args) int32 {
			copy(s.dev(a.Vals[0], a.Vals[2]), s.dev(a.Vals[1], a.Vals[2]))
			return 0
		},
		"cuMemsetD8_v2":    func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]), 1, a.Vals[1]); return 0 },
		"cuMemsetD8Async":  func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]), 1, a.Vals[1]); return 0 },
		"cuMemsetD16_v2":   func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]*2), 2, a.Vals[1]); return 0 },
		"cuMemsetD32_v2":   func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]*4), 4, a.Vals[1]); return 0 },
		"cuMemsetD32Async": func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]*4), 4, a.Vals[1]); return 0 },
		"cuMemGetAllocationGranularity": func(s *Sim, a *Args) int32 {
			put64(a.Out[0], 2<<20)
			return 0
		},
		"cuStreamCreate":      func(s *Sim, a *Args) int32 { put64(a.Out[0], s.newHandle()); return 0 },
		"cuStreamDestroy_v2":  ok,
		"cuStreamSynchronize": ok,
		"cuStreamQuery":       ok,
		"cuStreamWaitEvent":   ok,
		"cuEventCreate":       func(s *Sim, a *Args) int32 { put64(a.Out[0], s.newHandle()); return 0 },
		"cuEventDestroy_v2": func(s *Sim, a *Args) int32 {
			delete(s.events, a.Vals[0])
			return 0
		},
		"cuEventRecord":      func(s *Sim, a *Args) int32 { s.events[a.Vals[0]] = time.Now(); return 0 },
		"cuEventSynchronize": ok,
		"cuEventQuery":       ok,
		"cuEventElapsedTime_v2": func(s *Sim, a *Args) int32 {
			t0, ok0 := s.events[a.Vals[1]]
			t1, ok1 := s.events[a.Vals[2]]
			if !ok0 || !ok1 {
				return cuErrNotReady
			}
			put32(a.Out[0], math.Float32bits(float32(t1.Sub(t0).Seconds()*1000)))
			return 0
		},

		// NVML
		"nvmlSystemGetDriverVersion": func(s *Sim, a *Args) int32 {
			if len(a.Out[0]) < len(simNVMLDriver)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[0], simNVMLDriver)
			return 0
		},
		"nvmlDeviceGetCount_v2": func(s *Sim, a *Args) int32 { put32(a.Out[0], 1); return 0 },
		"nvmlDeviceGetHandleByIndex_v2": func(s *Sim, a *Args) int32 {
			if a.Vals[0] != 0 {
				return 2
			}
			put64(a.Out[1], simNVMLDevice)
			return 0
		},
		"nvmlDeviceGetName": func(s *Sim, a *Args) int32 {
			if len(a.Out[1]) < len(SimName)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], SimName)
			return 0
		},
		"nvmlDeviceGetUUID": func(s *Sim, a *Args) int32 {
			u := SimUUIDString()
			if len(a.Out[1]) < len(u)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], u)
			return 0
		},
		"nvmlSystemGetNVMLVersion": func(s *Sim, a *Args) int32 {
			if len(a.Out[0]) < len(simNVMLVersion)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[0], simNVMLVersion)
			return 0
		},
		"nvmlSystemGetCudaDriverVersion":    func(s *Sim, a *Args) int32 { put32(a.Out[0], simDriver); return 0 },
		"nvmlSystemGetCudaDriverVersion_v2": func(s *Sim, a *Args) int32 { put32(a.Out[0], simDriver); return 0 },
		"nvmlDeviceGetHandleByUUID": func(s *Sim, a *Args) int32 {
			if cstr(a.In[0]) != SimUUIDString() {
				return nvmlErrNotFound
			}
			put64(a.Out[1], simNVMLDevice)
			return 0
		},
		"nvmlDeviceGetHandleByPciBusId_v2": func(s *Sim, a *Args) int32 {
			if id := cstr(a.In[0]); id != simPCIBusID && id != simPCIBusID[4:] {
				return nvmlErrNotFound
			}
			put64(a.Out[1], simNVMLDevice)
			return 0
		},
		"nvmlDeviceGetIndex":       func(s *Sim, a *Args) int32 { put32(a.Out[1], 0); return 0 },
		"nvmlDeviceGetMinorNumber": func(s *Sim, a *Args) int32 { put32(a.Out[1], 0); return 0 },
		"nvmlDeviceGetSerial": func(s *Sim, a *Args) int32 {
			if len(a.Out[1]) < len(simSerial)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], simSerial)
			return 0
		},
		"nvmlDeviceGetCudaComputeCapability": func(s *Sim, a *Args) int32 {
			put32(a.Out[1], 9)
			put32(a.Out[2], 0)
			return 0
		},
		"nvmlDeviceGetPciInfo_v3": simPCI,
		"nvmlDeviceGetPciInfo_v2": simPCI,
		"nvmlDeviceGetMemoryInfo_v2": func(s *Sim, a *Args) int32 {
			m := a.Out[1]
			put64(m[8:], simTotalMem)
			put64(m[16:], 0)
			put64(m[24:], simTotalMem-s.used)
			put64(m[32:], s.used)
			return 0
		},
		"nvmlDeviceGetUtilizationRates": func(s *Sim, a *Args) int32 { clear(a.Out[1]); return 0 },
		"nvmlDeviceGetComputeRunningProcesses_v3": func(s *Sim, a *Args) int32 {
			put32(a.Out[1], 0) // the simulated device runs no host processes
			return 0
		},
		"nvmlDeviceGetGraphicsRunningProcesses_v3": func(s *Sim, a *Args) int32 {
			put32(a.Out[1], 0)
			return 0
		},
		"nvmlDeviceGetMemoryInfo": func(s *Sim, a *Args) int32 {
			put64(a.Out[1][0:], simTotalMem)
			put64(a.Out[1][8:], simTotalMem-s.used)
			put64(a.Out[1][16:], s.used)
			return 0
		},
	}
}

// simAliases: older entry points the simulated device answers like their successors.
var simAliases = map[string]string{
	"nvmlDeviceGetCount":         "nvmlDeviceGetCount_v2",
	"nvmlDeviceGetHandleByIndex": "nvmlDeviceGetHandleByIndex_v2",
}

func init() {
	for old, cur := range simAliases {
		simFuncs[old] = simFuncs[cur]
	}
}

const (
	simNVMLDevice  = 0x5e0000
	simNVMLVersion = "13.580.00-vgpu-sim"
	simSerial      = "vgpu-sim-0000"
)

// simPCI fills nvmlPciInfo_t (v2/v3 layout): busIdLegacy[16], domain, bus, device, pciDeviceId,
// pciSubSystemId, busId[32].
func simPCI(s *Sim, a *Args) int32 {
	p := a.Out[1]
	clear(p)
	putString(p[0:16], simPCIBusID[4:])
	putString(p[36:68], simPCIBusID)
	return 0
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// SimUUIDString is the simulated device's UUID as NVML and nvidia-smi print it.
func SimUUIDString() string { return FormatUUID(simUUID) }

// FormatUUID prints a CUuuid the way NVML does: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
func FormatUUID(u [16]byte) string {
	const hex = "0123456789abcdef"
	out := []byte("GPU-")
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[b>>4], hex[b&15])
	}
	return string(out)
}

func fill(b []byte, width int, v uint64) {
	for i := 0; i+width <= len(b); i += width {
		switch width {
		case 1:
			b[i] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(b[i:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(b[i:], uint32(v))
		}
	}
}

func (s *Sim) CopyHtoD(dst uint64, src []byte, stream uint64) int32 {
	copy(s.dev(dst, uint64(len(src))), src)
	return 0
}

// CopyHtoDAsync copies at once: the simulated device has no queue.
func (s *Sim) CopyHtoDAsync(dst uint64, src []byte, stream uint64) int32 {
	return s.CopyHtoD(dst, src, stream)
}

func (s *Sim) ShmFence() int32 { return 0 }

func (s *Sim) CopyDtoH(dst []byte, src uint64, stream uint64) int32 {
	copy(dst, s.dev(src, uint64(len(dst))))
	return 0
}
