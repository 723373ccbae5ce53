package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/ranges"
	"github.com/vgpu/vgpu/internal/settings"
)

// Sim is the simulated device for hosts without a GPU, so the demo and CI run anywhere. Host
// memory stands in for device memory; copies, memsets, streams and events behave like CUDA's
// (synchronously). Its name says what it is, so nobody mistakes it for a GPU.
//
// Simulated GPU time (VGPU_SIM_WORK_US, for tests of what runs concurrently): an async
// device-to-device copy keeps its stream busy for that long after the stream's earlier work
// (the bytes move at once); stream, event and context synchronisation wait until the work they
// cover is over, queries answer CUDA_ERROR_NOT_READY before. Streams run side by side, as
// kernels on separate streams of a GPU with room for them do.
//
// The current context is per client thread (Args.Thread), as a real driver's is per thread.
// Calls may come from several threads: mu serialises them, except that the waits of
// synchronisation hold it only to read what they wait for.
type Sim struct {
	mu       sync.Mutex
	threadCx map[uint16]uint64    // client thread -> its current context
	busy     map[uint64]time.Time // stream -> when its simulated work is over
	work     time.Duration        // VGPU_SIM_WORK_US
	mem      map[uint64][]byte
	allocs   ranges.Set
	next     uint64 // next device address
	handles  uint64
	ctxs     map[uint64]int // context -> its device (an ordinal)
	current  uint64
	primary  map[int]uint64 // device -> its primary context
	primRefs map[int]int
	primFlag uint32 // the primary contexts' flags (cuDevicePrimaryCtxSetFlags)
	events   map[uint64]time.Time
	inited   bool

	// The host's simulated GPUs (simDevices, VGPU_SIM_DEVICES), and the ones the driver shows
	// (ordinal -> host index; all of them unless SetVisibleDevices narrowed them, as
	// CUDA_VISIBLE_DEVICES narrows a real driver's). NVML always sees every host GPU.
	ndev    int
	visible []int
	used    []uint64 // device memory in use, per host GPU
	// hostNum is the simulated host's number (VGPU_SIM_HOST): it is in its GPUs' UUIDs and
	// places its device addresses, so that two simulated hosts look like two machines
	hostNum int
	memDev  map[uint64]int    // allocation -> its host GPU
	vmm     map[uint64]simVMM // cuMemCreate handles
}

// simVMM is a physical allocation of cuMemCreate.
type simVMM struct {
	size uint64
	host int
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

// simMaxDevices bounds VGPU_SIM_DEVICES.
const simMaxDevices = 8

// simMaxHost bounds VGPU_SIM_HOST.
const simMaxHost = 255

// NewSim returns a simulated host with VGPU_SIM_DEVICES GPUs (1 to simMaxDevices; default 1),
// numbered VGPU_SIM_HOST (0 to simMaxHost; default 0).
func NewSim() *Sim {
	s := NewSimDevices(settings.SimDevices.Get())
	s.setHost(settings.SimHost.Get())
	s.work = time.Duration(settings.SimWorkUS.Get()) * time.Microsecond
	return s
}

// setHost numbers the simulated host: its GPUs' UUIDs carry k (byte 14) and its device addresses
// start k * 64 GiB above host 0's.
func (s *Sim) setHost(k int) {
	s.hostNum = k
	s.next = simDevBase + uint64(k)<<36
}

// simDevBase is host 0's first device address.
const simDevBase = 0x7f0000000000

// NewSimDevices returns a simulated host with n GPUs, all visible.
func NewSimDevices(n int) *Sim {
	n = min(max(n, 1), simMaxDevices)
	s := &Sim{mem: map[uint64][]byte{}, next: simDevBase, ctxs: map[uint64]int{}, events: map[uint64]time.Time{},
		primary: map[int]uint64{}, primRefs: map[int]int{}, ndev: n, threadCx: map[uint16]uint64{}, busy: map[uint64]time.Time{}, used: make([]uint64, n), memDev: map[uint64]int{}, vmm: map[uint64]simVMM{}}
	for i := 0; i < n; i++ {
		s.visible = append(s.visible, i)
	}
	return s
}

// SetVisibleDevices narrows the GPUs the simulated driver shows to uuids, in that order (the
// worker's Devices policy; a real driver gets CUDA_VISIBLE_DEVICES). A UUID of no GPU is skipped.
func (s *Sim) SetVisibleDevices(uuids []string) {
	s.visible = s.visible[:0]
	for _, u := range uuids {
		for h := 0; h < s.ndev; h++ {
			if s.uuidString(h) == u {
				s.visible = append(s.visible, h)
			}
		}
	}
}

// hostOf is the host GPU of device ordinal d, or -1.
func (s *Sim) hostOf(d int32) int {
	if d < 0 || int(d) >= len(s.visible) {
		return -1
	}
	return s.visible[d]
}

// currentHost is the host GPU of the current context (GPU 0 without one, which the simulated
// driver, unlike the real one, lets allocate).
func (s *Sim) currentHost() int {
	if d, ok := s.ctxs[s.current]; ok {
		return s.visible[d]
	}
	return s.visible[0]
}

func (s *Sim) Name() string { return "sim" }

func (s *Sim) Close() {}

// simFuncs are the functions the simulated device implements, by the id of the row named as the
// function (api.ServerRow: a vgpu row with a Server runs the function of that name).
var simFuncs map[api.ID]func(s *Sim, a *Args) int32

func (s *Sim) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	sid, known := api.ServerRow(id)
	fn, ok := simFuncs[sid]
	if !ok || !known {
		code := f.Lib().Info().NotSupported
		logOnce("sim:"+f.Name, fmt.Sprintf("the simulated device does not implement %s (returning %d)", f.Name, code), "function", f.Name, "code", code)
		return code
	}
	s.mu.Lock()
	if f.Lib() == api.LibCuda && id != api.IDcuInit && id != api.IDcuDriverGetVersion && !s.inited {
		s.mu.Unlock()
		return 3 // CUDA_ERROR_NOT_INITIALIZED
	}
	if f.Wait {
		// what to wait for, read under the lock; the wait itself without it
		until := s.waitUntil(id, a)
		s.mu.Unlock()
		if d := time.Until(until); d > 0 {
			time.Sleep(d)
		}
		return 0
	}
	defer s.mu.Unlock()
	s.current = s.threadCx[a.Thread]
	r := fn(s, a)
	if s.current != 0 {
		s.threadCx[a.Thread] = s.current
	} else {
		delete(s.threadCx, a.Thread)
	}
	return r
}

// ThreadEnded forgets client thread t's current context.
func (s *Sim) ThreadEnded(t uint16) {
	s.mu.Lock()
	delete(s.threadCx, t)
	s.mu.Unlock()
}

// waitUntil is when the work a synchronisation (a row marked Wait) waits for is over; s.mu
// is held.
func (s *Sim) waitUntil(id api.ID, a *Args) time.Time {
	var until time.Time
	switch id {
	case api.IDcuStreamSynchronize:
		if st := a.Vals[0]; st > 2 {
			return s.busy[st]
		}
	case api.IDcuEventSynchronize:
		return s.events[a.Vals[0]]
	}
	// the context, or a special stream (the legacy stream waits for the blocking streams):
	// every stream's work
	for _, t := range s.busy {
		if t.After(until) {
			until = t
		}
	}
	return until
}

// addWork keeps stream st busy for the simulated work time after its earlier work.
func (s *Sim) addWork(st uint64) {
	if s.work <= 0 {
		return
	}
	start := time.Now()
	if t := s.busy[st]; t.After(start) {
		start = t
	}
	s.busy[st] = start.Add(s.work)
}

// notReady: whether the simulated work before t is still running (queries).
func notReady(t time.Time) int32 {
	if time.Now().Before(t) {
		return cuErrNotReady
	}
	return 0
}

// simProcesses answers an NVML process list (api.Func.OwnProcess) of the simulated device: a
// host process beside the worker, then the worker itself once it holds device memory there (as
// a real device lists a process with a context), each entry elem bytes (pid, used memory).
func simProcesses(s *Sim, a *Args, h int, elem int, compute bool) int32 {
	type proc struct {
		pid  uint32
		used uint64
	}
	var ps []proc
	if compute {
		ps = append(ps, proc{1, 1 << 30}) // another program on the host: the server must not pass it on
		if s.used[h] > 0 {
			ps = append(ps, proc{uint32(os.Getpid()), s.used[h]})
		}
	}
	room := binary.LittleEndian.Uint32(a.Out[1])
	put32(a.Out[1], uint32(len(ps)))
	if int(room) < len(ps) {
		return nvmlErrInsufficient
	}
	for i, p := range ps {
		e := a.Out[2][i*elem : (i+1)*elem]
		clear(e)
		put32(e, p.pid)
		put64(e[8:], p.used)
	}
	return 0
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

// simPCIBusIDOf is host GPU h's PCI bus id (GPU 0: simPCIBusID).
func simPCIBusIDOf(h int) string { return fmt.Sprintf("00000000:%02x:00.0", h) }

// simNVMLHandle is host GPU h's NVML handle, and nvmlHost its inverse (-1: no GPU).
func simNVMLHandle(h int) uint64 { return simNVMLDevice + uint64(h)*0x100 }

func (s *Sim) nvmlHost(v uint64) int {
	if v < simNVMLDevice || (v-simNVMLDevice)%0x100 != 0 || int((v-simNVMLDevice)/0x100) >= s.ndev {
		return -1
	}
	return int((v - simNVMLDevice) / 0x100)
}

func init() {
	// devFn checks the CUdevice in parameter arg.
	devFn := func(arg int, fn func(s *Sim, a *Args) int32) func(s *Sim, a *Args) int32 {
		return func(s *Sim, a *Args) int32 {
			if s.hostOf(int32(uint32(a.Vals[arg]))) < 0 {
				return cuErrInvalidDevice
			}
			// a CUdevice is a C int: the word's upper bits are not the caller's (the driver
			// reads 32 bits), and fn indexes with the whole word
			a.Vals[arg] = uint64(uint32(a.Vals[arg]))
			return fn(s, a)
		}
	}
	// nvFn checks the nvmlDevice_t in parameter 0 and passes its host GPU.
	nvFn := func(fn func(s *Sim, a *Args, h int) int32) func(s *Sim, a *Args) int32 {
		return func(s *Sim, a *Args) int32 {
			h := s.nvmlHost(a.Vals[0])
			if h < 0 {
				return 2 // NVML_ERROR_INVALID_ARGUMENT
			}
			return fn(s, a, h)
		}
	}
	ok := func(s *Sim, a *Args) int32 { return 0 }
	simFuncs = map[api.ID]func(s *Sim, a *Args) int32{
		api.IDcuInit: func(s *Sim, a *Args) int32 {
			if a.Vals[0] != 0 {
				return cuErrInvalidValue
			}
			if len(s.visible) == 0 {
				return 100 // CUDA_ERROR_NO_DEVICE
			}
			s.inited = true
			return 0
		},
		api.IDcuDriverGetVersion: func(s *Sim, a *Args) int32 { put32(a.Out[0], simDriver); return 0 },
		api.IDcuDeviceGetCount:   func(s *Sim, a *Args) int32 { put32(a.Out[0], uint32(len(s.visible))); return 0 },
		api.IDcuDeviceGet: func(s *Sim, a *Args) int32 {
			if s.hostOf(int32(uint32(a.Vals[1]))) < 0 {
				return cuErrInvalidDevice
			}
			put32(a.Out[0], uint32(a.Vals[1]))
			return 0
		},
		api.IDcuDeviceGetName: devFn(2, func(s *Sim, a *Args) int32 { putString(a.Out[0], SimName); return 0 }),
		api.IDcuDeviceGetUuid: devFn(1, func(s *Sim, a *Args) int32 {
			u := s.uuidOf(s.hostOf(int32(a.Vals[1])))
			copy(a.Out[0], u[:])
			return 0
		}),
		api.IDcuDeviceGetUuid_v2: devFn(1, func(s *Sim, a *Args) int32 {
			u := s.uuidOf(s.hostOf(int32(a.Vals[1])))
			copy(a.Out[0], u[:])
			return 0
		}),
		api.IDcuDeviceTotalMem_v2: devFn(1, func(s *Sim, a *Args) int32 { put64(a.Out[0], simTotalMem); return 0 }),
		api.IDcuDeviceGetAttribute: devFn(2, func(s *Sim, a *Args) int32 {
			attr := int32(uint32(a.Vals[1]))
			if attr <= 0 || attr > 200 {
				return cuErrInvalidValue
			}
			v := uint32(simAttrs[attr])
			if attr == 33 { // CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: the bus of simPCIBusIDOf
				v = uint32(s.hostOf(int32(a.Vals[2])))
			}
			put32(a.Out[0], v)
			return 0
		}),
		api.IDcuDeviceGetPCIBusId: devFn(2, func(s *Sim, a *Args) int32 {
			if len(a.Out[0]) < len(simPCIBusID)+1 {
				return cuErrInvalidValue
			}
			putString(a.Out[0], simPCIBusIDOf(s.hostOf(int32(a.Vals[2]))))
			return 0
		}),
		api.IDcuDeviceGetByPCIBusId: func(s *Sim, a *Args) int32 {
			id := string(a.In[1][:len(a.In[1])-1])
			for d, h := range s.visible {
				if b := simPCIBusIDOf(h); id == b || id == b[4:] {
					put32(a.Out[0], uint32(d))
					return 0
				}
			}
			return cuErrInvalidDevice
		},
		api.IDcuDevicePrimaryCtxRetain: devFn(1, func(s *Sim, a *Args) int32 {
			d := int(a.Vals[1])
			if s.primary[d] == 0 {
				s.primary[d] = s.newHandle()
				s.ctxs[s.primary[d]] = d
			}
			s.primRefs[d]++
			put64(a.Out[0], s.primary[d])
			return 0
		}),
		api.IDcuDevicePrimaryCtxRelease_v2: devFn(0, func(s *Sim, a *Args) int32 {
			d := int(a.Vals[0])
			if s.primRefs[d] == 0 {
				return cuErrInvalidContext
			}
			s.primRefs[d]--
			return 0
		}),
		// a reset keeps the context's handle (as the driver does) and frees nothing the sim holds
		api.IDcuDevicePrimaryCtxReset_v2: devFn(0, func(s *Sim, a *Args) int32 { return 0 }),
		api.IDcuDevicePrimaryCtxSetFlags_v2: devFn(0, func(s *Sim, a *Args) int32 {
			const known = 0x07 | 0x08 | 0x10 | 0x20 // scheduling, map host, keep local memory, coredump
			if f := uint32(a.Vals[1]); f&^known != 0 || f&0x07 == 0x03 || f&0x07 > 0x04 {
				return 1 // CUDA_ERROR_INVALID_VALUE
			}
			s.primFlag = uint32(a.Vals[1])
			return 0
		}),
		api.IDcuDevicePrimaryCtxGetState: devFn(0, func(s *Sim, a *Args) int32 {
			put32(a.Out[1], s.primFlag)
			active := uint32(0)
			if s.primRefs[int(a.Vals[0])] > 0 {
				active = 1
			}
			put32(a.Out[2], active)
			return 0
		}),
		api.IDcuCtxCreate_v2: devFn(2, func(s *Sim, a *Args) int32 {
			h := s.newHandle()
			s.ctxs[h] = int(a.Vals[2])
			s.current = h
			put64(a.Out[0], h)
			return 0
		}),
		api.IDcuCtxDestroy_v2: func(s *Sim, a *Args) int32 {
			delete(s.ctxs, a.Vals[0])
			if s.current == a.Vals[0] {
				s.current = 0
			}
			return 0
		},
		api.IDcuCtxGetCurrent: func(s *Sim, a *Args) int32 { put64(a.Out[0], s.current); return 0 },
		api.IDcuCtxSetCurrent: func(s *Sim, a *Args) int32 { s.current = a.Vals[0]; return 0 },
		api.IDcuCtxGetDevice: func(s *Sim, a *Args) int32 {
			d, ok := s.ctxs[s.current]
			if !ok {
				return cuErrInvalidContext
			}
			put32(a.Out[0], uint32(d))
			return 0
		},
		api.IDcuCtxSynchronize: ok,
		api.IDcuMemGetInfo_v2: func(s *Sim, a *Args) int32 {
			h := s.currentHost()
			put64(a.Out[0], simTotalMem-s.used[h])
			put64(a.Out[1], simTotalMem)
			return 0
		},
		api.IDcuMemAlloc_v2: func(s *Sim, a *Args) int32 {
			p, r := s.alloc(a.Vals[1], s.currentHost())
			put64(a.Out[0], p)
			return r
		},
		api.IDcuMemAllocPitch_v2: func(s *Sim, a *Args) int32 { // (dptr, pPitch, WidthInBytes, Height, ElementSizeBytes)
			w, h := a.Vals[2], a.Vals[3]
			if w == 0 || h == 0 || h > simTotalMem {
				return cuErrInvalidValue
			}
			pitch := (w + 511) &^ 511
			if pitch > simTotalMem/h {
				return cuErrOutOfMemory
			}
			p, r := s.alloc(pitch*h, s.currentHost())
			put64(a.Out[0], p)
			put64(a.Out[1], pitch)
			return r
		},
		api.IDcuMemFree_v2: func(s *Sim, a *Args) int32 {
			p := a.Vals[0]
			b, okk := s.mem[p]
			if !okk {
				return cuErrInvalidValue
			}
			s.used[s.memDev[p]] -= uint64(len(b))
			delete(s.mem, p)
			delete(s.memDev, p)
			s.allocs.Remove(p)
			return 0
		},
		// Virtual memory management: physical allocations count as used memory; a mapping gets
		// memory of its own for copies (two mappings of one handle do not share bytes here).
		api.IDcuMemCreate: func(s *Sim, a *Args) int32 { // (handle, size, prop, flags)
			n, prop := a.Vals[1], a.In[2]
			const locDevice = 1
			if n == 0 || n%(2<<20) != 0 || binary.LittleEndian.Uint32(prop[8:]) != locDevice {
				return cuErrInvalidValue
			}
			h := s.hostOf(int32(binary.LittleEndian.Uint32(prop[12:])))
			if h < 0 {
				return cuErrInvalidDevice
			}
			if n > simTotalMem-s.used[h] {
				return cuErrOutOfMemory
			}
			s.used[h] += n
			m := s.newHandle()
			s.vmm[m] = simVMM{size: n, host: h}
			put64(a.Out[0], m)
			return 0
		},
		api.IDcuMemRelease: func(s *Sim, a *Args) int32 {
			m, okk := s.vmm[a.Vals[0]]
			if !okk {
				return cuErrInvalidValue
			}
			s.used[m.host] -= m.size
			delete(s.vmm, a.Vals[0])
			return 0
		},
		api.IDcuMemAddressReserve: func(s *Sim, a *Args) int32 { // (ptr, size, alignment, addr, flags)
			n := a.Vals[1]
			if n == 0 || n > 1<<40 {
				return cuErrInvalidValue
			}
			p := s.next
			s.next += (n + 0xfffff) &^ 0xfffff
			put64(a.Out[0], p)
			return 0
		},
		api.IDcuMemAddressFree: ok,
		api.IDcuMemMap: func(s *Sim, a *Args) int32 { // (ptr, size, offset, handle, flags)
			p, n := a.Vals[0], a.Vals[1]
			if m, okk := s.vmm[a.Vals[3]]; !okk || a.Vals[2]+n > m.size || n == 0 {
				return cuErrInvalidValue
			}
			if _, _, busy := s.allocs.Find(p, 1); busy {
				return 208 // CUDA_ERROR_ALREADY_MAPPED
			}
			s.mem[p] = make([]byte, n)
			s.allocs.Add(p, n)
			return 0
		},
		api.IDcuMemUnmap: func(s *Sim, a *Args) int32 {
			if _, okk := s.mem[a.Vals[0]]; !okk {
				return 211 // CUDA_ERROR_NOT_MAPPED
			}
			delete(s.mem, a.Vals[0])
			s.allocs.Remove(a.Vals[0])
			return 0
		},
		api.IDcuMemSetAccess:       ok,
		api.IDcuMemcpyHtoD_v2:      func(s *Sim, a *Args) int32 { copy(s.dev(a.Vals[0], a.Vals[2]), a.In[1]); return 0 },
		api.IDcuMemcpyHtoDAsync_v2: func(s *Sim, a *Args) int32 { copy(s.dev(a.Vals[0], a.Vals[2]), a.In[1]); return 0 },
		api.IDcuMemcpyDtoH_v2:      func(s *Sim, a *Args) int32 { copy(a.Out[0], s.dev(a.Vals[1], a.Vals[2])); return 0 },
		api.IDcuMemcpyDtoD_v2: func(s *Sim, a *Args) int32 {
			copy(s.dev(a.Vals[0], a.Vals[2]), s.dev(a.Vals[1], a.Vals[2]))
			return 0
		},
		api.IDcuMemcpyDtoDAsync_v2: func(s *Sim, a *Args) int32 {
			copy(s.dev(a.Vals[0], a.Vals[2]), s.dev(a.Vals[1], a.Vals[2]))
			s.addWork(a.Vals[3])
			return 0
		},
		// peer copies between two GPUs of the host (the session checked both ranges)
		api.IDcuMemcpyPeer: func(s *Sim, a *Args) int32 {
			copy(s.dev(a.Vals[0], a.Vals[4]), s.dev(a.Vals[2], a.Vals[4]))
			return 0
		},
		api.IDcuMemcpyPeerAsync: func(s *Sim, a *Args) int32 {
			copy(s.dev(a.Vals[0], a.Vals[4]), s.dev(a.Vals[2], a.Vals[4]))
			return 0
		},
		api.IDcuDeviceCanAccessPeer: devFn(1, devFn(2, func(s *Sim, a *Args) int32 {
			can := uint32(0)
			if a.Vals[1] != a.Vals[2] {
				can = 1 // two GPUs of one host reach each other
			}
			put32(a.Out[0], can)
			return 0
		})),
		api.IDcuMemsetD8_v2:    func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]), 1, a.Vals[1]); return 0 },
		api.IDcuMemsetD8Async:  func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]), 1, a.Vals[1]); return 0 },
		api.IDcuMemsetD16_v2:   func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]*2), 2, a.Vals[1]); return 0 },
		api.IDcuMemsetD32_v2:   func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]*4), 4, a.Vals[1]); return 0 },
		api.IDcuMemsetD32Async: func(s *Sim, a *Args) int32 { fill(s.dev(a.Vals[0], a.Vals[2]*4), 4, a.Vals[1]); return 0 },
		api.IDcuMemGetAllocationGranularity: func(s *Sim, a *Args) int32 {
			put64(a.Out[0], 2<<20)
			return 0
		},
		api.IDcuStreamCreate: func(s *Sim, a *Args) int32 { put64(a.Out[0], s.newHandle()); return 0 },
		api.IDcuStreamDestroy_v2: func(s *Sim, a *Args) int32 {
			delete(s.busy, a.Vals[0])
			return 0
		},
		api.IDcuStreamSynchronize: ok, // (Invoke waits)
		api.IDcuStreamQuery:       func(s *Sim, a *Args) int32 { return notReady(s.busy[a.Vals[0]]) },
		api.IDcuStreamWaitEvent:   ok,
		api.IDcuEventCreate:       func(s *Sim, a *Args) int32 { put64(a.Out[0], s.newHandle()); return 0 },
		api.IDcuEventDestroy_v2: func(s *Sim, a *Args) int32 {
			delete(s.events, a.Vals[0])
			return 0
		},
		api.IDcuEventRecord: func(s *Sim, a *Args) int32 {
			t := time.Now()
			if b := s.busy[a.Vals[1]]; b.After(t) {
				t = b // recorded once the stream's simulated work is over
			}
			s.events[a.Vals[0]] = t
			return 0
		},
		api.IDcuEventSynchronize: ok, // (Invoke waits)
		api.IDcuEventQuery:       func(s *Sim, a *Args) int32 { return notReady(s.events[a.Vals[0]]) },
		api.IDcuEventElapsedTime_v2: func(s *Sim, a *Args) int32 {
			t0, ok0 := s.events[a.Vals[1]]
			t1, ok1 := s.events[a.Vals[2]]
			if !ok0 || !ok1 {
				return cuErrNotReady
			}
			put32(a.Out[0], math.Float32bits(float32(t1.Sub(t0).Seconds()*1000)))
			return 0
		},

		// NVML
		api.IDnvmlSystemGetDriverVersion: func(s *Sim, a *Args) int32 {
			if len(a.Out[0]) < len(simNVMLDriver)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[0], simNVMLDriver)
			return 0
		},
		api.IDnvmlDeviceGetCount_v2: func(s *Sim, a *Args) int32 { put32(a.Out[0], uint32(s.ndev)); return 0 },
		api.IDnvmlDeviceGetHandleByIndex_v2: func(s *Sim, a *Args) int32 {
			i := uint32(a.Vals[0]) // an unsigned int: the word's upper bits are not the caller's
			if i >= uint32(s.ndev) {
				return 2
			}
			put64(a.Out[1], simNVMLHandle(int(i)))
			return 0
		},
		api.IDnvmlDeviceGetName: func(s *Sim, a *Args) int32 {
			if len(a.Out[1]) < len(SimName)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], SimName)
			return 0
		},
		api.IDnvmlDeviceGetUUID: nvFn(func(s *Sim, a *Args, h int) int32 {
			u := s.uuidString(h)
			if len(a.Out[1]) < len(u)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], u)
			return 0
		}),
		api.IDnvmlSystemGetNVMLVersion: func(s *Sim, a *Args) int32 {
			if len(a.Out[0]) < len(simNVMLVersion)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[0], simNVMLVersion)
			return 0
		},
		api.IDnvmlSystemGetCudaDriverVersion:    func(s *Sim, a *Args) int32 { put32(a.Out[0], simDriver); return 0 },
		api.IDnvmlSystemGetCudaDriverVersion_v2: func(s *Sim, a *Args) int32 { put32(a.Out[0], simDriver); return 0 },
		api.IDnvmlDeviceGetHandleByUUID: func(s *Sim, a *Args) int32 {
			for h := 0; h < s.ndev; h++ {
				if stringUntilNUL(a.In[0]) == s.uuidString(h) {
					put64(a.Out[1], simNVMLHandle(h))
					return 0
				}
			}
			return nvmlErrNotFound
		},
		api.IDnvmlDeviceGetHandleByPciBusId_v2: func(s *Sim, a *Args) int32 {
			for h := 0; h < s.ndev; h++ {
				if id, b := stringUntilNUL(a.In[0]), simPCIBusIDOf(h); id == b || id == b[4:] {
					put64(a.Out[1], simNVMLHandle(h))
					return 0
				}
			}
			return nvmlErrNotFound
		},
		api.IDnvmlDeviceGetIndex:       nvFn(func(s *Sim, a *Args, h int) int32 { put32(a.Out[1], uint32(h)); return 0 }),
		api.IDnvmlDeviceGetMinorNumber: nvFn(func(s *Sim, a *Args, h int) int32 { put32(a.Out[1], uint32(h)); return 0 }),
		api.IDnvmlDeviceGetSerial: func(s *Sim, a *Args) int32 {
			if len(a.Out[1]) < len(simSerial)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], simSerial)
			return 0
		},
		api.IDnvmlDeviceGetCudaComputeCapability: func(s *Sim, a *Args) int32 {
			put32(a.Out[1], 9)
			put32(a.Out[2], 0)
			return 0
		},
		api.IDnvmlDeviceGetPciInfo_v3: nvFn(simPCI),
		api.IDnvmlDeviceGetPciInfo_v2: nvFn(simPCI),
		api.IDnvmlDeviceGetMemoryInfo_v2: nvFn(func(s *Sim, a *Args, h int) int32 {
			m := a.Out[1]
			put64(m[8:], simTotalMem)
			put64(m[16:], 0)
			put64(m[24:], simTotalMem-s.used[h])
			put64(m[32:], s.used[h])
			return 0
		}),
		api.IDnvmlDeviceGetUtilizationRates: func(s *Sim, a *Args) int32 { clear(a.Out[1]); return 0 },
		api.IDnvmlDeviceGetMemoryInfo: nvFn(func(s *Sim, a *Args, h int) int32 {
			put64(a.Out[1][0:], simTotalMem)
			put64(a.Out[1][8:], simTotalMem-s.used[h])
			put64(a.Out[1][16:], s.used[h])
			return 0
		}),
	}
}

// simAliases: older entry points the simulated device answers like their successors.
var simAliases = map[api.ID]api.ID{
	api.IDnvmlDeviceGetCount:         api.IDnvmlDeviceGetCount_v2,
	api.IDnvmlDeviceGetHandleByIndex: api.IDnvmlDeviceGetHandleByIndex_v2,
}

func init() {
	for id, f := range api.Table {
		if f.OwnProcess {
			elem, compute := f.Params[2].Elem, strings.HasPrefix(f.Name, "nvmlDeviceGetComputeRunning")
			simFuncs[api.ID(id)] = func(s *Sim, a *Args) int32 {
				h := s.nvmlHost(a.Vals[0])
				if h < 0 {
					return 2 // NVML_ERROR_INVALID_ARGUMENT
				}
				return simProcesses(s, a, h, elem, compute)
			}
		}
	}
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
func simPCI(s *Sim, a *Args, h int) int32 {
	p := a.Out[1]
	clear(p)
	b := simPCIBusIDOf(h)
	putString(p[0:16], b[4:])
	putString(p[36:68], b)
	binary.LittleEndian.PutUint32(p[20:], uint32(h)) // bus
	return 0
}

// stringUntilNUL is the C string in b: its bytes before the first NUL (all of b if none).
func stringUntilNUL(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// SimUUIDString is the simulated device's UUID as NVML and nvidia-smi print it.
func SimUUIDString() string { return FormatUUID(simUUID) }

// simUUIDOf is host GPU h's UUID (GPU 0: simUUID).
func simUUIDOf(h int) [16]byte {
	u := simUUID
	u[15] = byte(h + 1)
	return u
}

func simUUIDString(h int) string { return FormatUUID(simUUIDOf(h)) }

// uuidOf is host GPU h's UUID on this simulated host (host 0: simUUIDOf(h)).
func (s *Sim) uuidOf(h int) [16]byte {
	u := simUUIDOf(h)
	u[14] = byte(s.hostNum)
	return u
}

func (s *Sim) uuidString(h int) string { return FormatUUID(s.uuidOf(h)) }

// alloc takes n bytes of host GPU h's memory.
func (s *Sim) alloc(n uint64, h int) (uint64, int32) {
	if n == 0 {
		return 0, cuErrInvalidValue
	}
	if n > simTotalMem-s.used[h] {
		return 0, cuErrOutOfMemory
	}
	p := s.next
	s.next += (n + 0xfffff) &^ 0xfffff // 1 MiB steps keep allocations apart
	s.mem[p] = make([]byte, n)
	s.memDev[p] = h
	s.allocs.Add(p, n)
	s.used[h] += n
	return p, 0
}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	copy(s.dev(dst, uint64(len(src))), src)
	return 0
}

// CopyHtoDAsync copies at once: the simulated device has no queue.
func (s *Sim) CopyHtoDAsync(dst uint64, src []byte, stream uint64) int32 {
	return s.CopyHtoD(dst, src, stream)
}

func (s *Sim) ShmFence() int32 { return 0 }

func (s *Sim) CopyDtoH(dst []byte, src uint64, stream uint64) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	copy(dst, s.dev(src, uint64(len(dst))))
	return 0
}

// PointerAttributes answers cuPointerGetAttributes for device memory of the simulated host: the
// memory type (device), the device pointer and the device ordinal; other attributes are left
// unwritten (length 0). An address that is no device memory is CUDA_ERROR_INVALID_VALUE.
func (s *Sim) PointerAttributes(attrs []byte, ptr uint64, out []byte) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	base, _, ok := s.allocs.Find(ptr, 1)
	if !ok {
		return cuErrInvalidValue
	}
	ord := 0
	if h, ok := s.memDev[base]; ok {
		for d, v := range s.visible {
			if v == h {
				ord = d
			}
		}
	}
	for i := 0; 4*i+4 <= len(attrs) && 72*i+72 <= len(out); i++ {
		slot := out[72*i : 72*i+72]
		clear(slot)
		switch binary.LittleEndian.Uint32(attrs[4*i:]) {
		case 2: // CU_POINTER_ATTRIBUTE_MEMORY_TYPE: CU_MEMORYTYPE_DEVICE
			put64(slot, 4)
			put32(slot[8:], 2)
		case 3: // CU_POINTER_ATTRIBUTE_DEVICE_POINTER
			put64(slot, 8)
			put64(slot[8:], ptr)
		case 9: // CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
			put64(slot, 4)
			put32(slot[8:], uint32(ord))
		}
	}
	return 0
}
