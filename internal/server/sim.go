package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
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
			arg := cuInitArgs{a}
			if arg.Flags() != 0 {
				return cuErrInvalidValue
			}
			if len(s.visible) == 0 {
				return 100 // CUDA_ERROR_NO_DEVICE
			}
			s.inited = true
			return 0
		},
		api.IDcuDriverGetVersion: func(s *Sim, a *Args) int32 {
			arg := cuDriverGetVersionArgs{a}
			put32(arg.driverVersion(), simDriver)
			return 0
		},
		api.IDcuDeviceGetCount: func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetCountArgs{a}
			put32(arg.count(), uint32(len(s.visible)))
			return 0
		},
		api.IDcuDeviceGet: func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetArgs{a}
			if s.hostOf(int32(uint32(arg.ordinal()))) < 0 {
				return cuErrInvalidDevice
			}
			put32(arg.device(), uint32(arg.ordinal()))
			return 0
		},
		api.IDcuDeviceGetName: devFn(2, func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetNameArgs{a}
			putString(arg.name(), SimName)
			return 0
		}),
		api.IDcuDeviceGetUuid: devFn(1, func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetUuidArgs{a}
			u := s.uuidOf(s.hostOf(int32(arg.dev())))
			copy(arg.uuid(), u[:])
			return 0
		}),
		api.IDcuDeviceGetUuid_v2: devFn(1, func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetUuid_v2Args{a}
			u := s.uuidOf(s.hostOf(int32(arg.dev())))
			copy(arg.uuid(), u[:])
			return 0
		}),
		api.IDcuDeviceTotalMem_v2: devFn(1, func(s *Sim, a *Args) int32 {
			arg := cuDeviceTotalMem_v2Args{a}
			put64(arg.bytes(), simTotalMem)
			return 0
		}),
		api.IDcuDeviceGetAttribute: devFn(2, func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetAttributeArgs{a}
			attr := int32(uint32(arg.attrib()))
			if attr <= 0 || attr > 200 {
				return cuErrInvalidValue
			}
			v := uint32(simAttrs[attr])
			if attr == 33 { // CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: the bus of simPCIBusIDOf
				v = uint32(s.hostOf(int32(arg.dev())))
			}
			put32(arg.pi(), v)
			return 0
		}),
		api.IDcuDeviceGetPCIBusId: devFn(2, func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetPCIBusIdArgs{a}
			if len(arg.pciBusId()) < len(simPCIBusID)+1 {
				return cuErrInvalidValue
			}
			putString(arg.pciBusId(), simPCIBusIDOf(s.hostOf(int32(arg.dev()))))
			return 0
		}),
		api.IDcuDeviceGetByPCIBusId: func(s *Sim, a *Args) int32 {
			arg := cuDeviceGetByPCIBusIdArgs{a}
			id := string(arg.pciBusId()[:len(arg.pciBusId())-1])
			for d, h := range s.visible {
				if b := simPCIBusIDOf(h); id == b || id == b[4:] {
					put32(arg.dev(), uint32(d))
					return 0
				}
			}
			return cuErrInvalidDevice
		},
		api.IDcuDevicePrimaryCtxRetain: devFn(1, func(s *Sim, a *Args) int32 {
			arg := cuDevicePrimaryCtxRetainArgs{a}
			d := int(arg.dev())
			if s.primary[d] == 0 {
				s.primary[d] = s.newHandle()
				s.ctxs[s.primary[d]] = d
			}
			s.primRefs[d]++
			put64(arg.pctx(), s.primary[d])
			return 0
		}),
		api.IDcuDevicePrimaryCtxRelease_v2: devFn(0, func(s *Sim, a *Args) int32 {
			arg := cuDevicePrimaryCtxRelease_v2Args{a}
			d := int(arg.dev())
			if s.primRefs[d] == 0 {
				return cuErrInvalidContext
			}
			s.primRefs[d]--
			return 0
		}),
		// a reset keeps the context's handle (as the driver does) and frees nothing the sim holds
		api.IDcuDevicePrimaryCtxReset_v2: devFn(0, func(s *Sim, a *Args) int32 { return 0 }),
		api.IDcuDevicePrimaryCtxSetFlags_v2: devFn(0, func(s *Sim, a *Args) int32 {
			arg := cuDevicePrimaryCtxSetFlags_v2Args{a}
			const known = 0x07 | 0x08 | 0x10 | 0x20 // scheduling, map host, keep local memory, coredump
			if f := uint32(arg.flags()); f&^known != 0 || f&0x07 == 0x03 || f&0x07 > 0x04 {
				return 1 // CUDA_ERROR_INVALID_VALUE
			}
			s.primFlag = uint32(arg.flags())
			return 0
		}),
		api.IDcuDevicePrimaryCtxGetState: devFn(0, func(s *Sim, a *Args) int32 {
			arg := cuDevicePrimaryCtxGetStateArgs{a}
			put32(arg.flags(), s.primFlag)
			active := uint32(0)
			if s.primRefs[int(arg.dev())] > 0 {
				active = 1
			}
			put32(arg.active(), active)
			return 0
		}),
		api.IDcuCtxCreate_v2: devFn(2, func(s *Sim, a *Args) int32 {
			arg := cuCtxCreate_v2Args{a}
			h := s.newHandle()
			s.ctxs[h] = int(arg.dev())
			s.current = h
			put64(arg.pctx(), h)
			return 0
		}),
		api.IDcuCtxDestroy_v2: func(s *Sim, a *Args) int32 {
			arg := cuCtxDestroy_v2Args{a}
			delete(s.ctxs, arg.ctx())
			if s.current == arg.ctx() {
				s.current = 0
			}
			return 0
		},
		api.IDcuCtxGetCurrent: func(s *Sim, a *Args) int32 {
			arg := cuCtxGetCurrentArgs{a}
			put64(arg.pctx(), s.current)
			return 0
		},
		api.IDcuCtxSetCurrent: func(s *Sim, a *Args) int32 {
			arg := cuCtxSetCurrentArgs{a}
			s.current = arg.ctx()
			return 0
		},
		api.IDcuCtxGetDevice: func(s *Sim, a *Args) int32 {
			arg := cuCtxGetDeviceArgs{a}
			d, ok := s.ctxs[s.current]
			if !ok {
				return cuErrInvalidContext
			}
			put32(arg.device(), uint32(d))
			return 0
		},
		api.IDcuCtxSynchronize: ok,
		api.IDcuMemGetInfo_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemGetInfo_v2Args{a}
			h := s.currentHost()
			put64(arg.free(), simTotalMem-s.used[h])
			put64(arg.total(), simTotalMem)
			return 0
		},
		api.IDcuMemAlloc_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemAlloc_v2Args{a}
			p, r := s.alloc(arg.bytesize(), s.currentHost())
			put64(arg.dptr(), p)
			return r
		},
		api.IDcuMemAllocPitch_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemAllocPitch_v2Args{a}
			// (dptr, pPitch, WidthInBytes, Height, ElementSizeBytes)
			w, h := arg.WidthInBytes(), arg.Height()
			if w == 0 || h == 0 || h > simTotalMem {
				return cuErrInvalidValue
			}
			pitch := (w + 511) &^ 511
			if pitch > simTotalMem/h {
				return cuErrOutOfMemory
			}
			p, r := s.alloc(pitch*h, s.currentHost())
			put64(arg.dptr(), p)
			put64(arg.pPitch(), pitch)
			return r
		},
		api.IDcuMemFree_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemFree_v2Args{a}
			p := arg.dptr()
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
		api.IDcuMemCreate: func(s *Sim, a *Args) int32 {
			arg := cuMemCreateArgs{a}
			// (handle, size, prop, flags)
			n, prop := arg.size(), arg.prop()
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
			put64(arg.handle(), m)
			return 0
		},
		api.IDcuMemRelease: func(s *Sim, a *Args) int32 {
			arg := cuMemReleaseArgs{a}
			m, okk := s.vmm[arg.handle()]
			if !okk {
				return cuErrInvalidValue
			}
			s.used[m.host] -= m.size
			delete(s.vmm, arg.handle())
			return 0
		},
		api.IDcuMemAddressReserve: func(s *Sim, a *Args) int32 {
			arg := cuMemAddressReserveArgs{a}
			// (ptr, size, alignment, addr, flags)
			n := arg.size()
			if n == 0 || n > 1<<40 {
				return cuErrInvalidValue
			}
			p := s.next
			s.next += (n + 0xfffff) &^ 0xfffff
			put64(arg.ptr(), p)
			return 0
		},
		api.IDcuMemAddressFree: ok,
		api.IDcuMemMap: func(s *Sim, a *Args) int32 {
			arg := cuMemMapArgs{a}
			// (ptr, size, offset, handle, flags)
			p, n := arg.ptr(), arg.size()
			if m, okk := s.vmm[arg.handle()]; !okk || arg.offset()+n > m.size || n == 0 {
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
			arg := cuMemUnmapArgs{a}
			if _, okk := s.mem[arg.ptr()]; !okk {
				return 211 // CUDA_ERROR_NOT_MAPPED
			}
			delete(s.mem, arg.ptr())
			s.allocs.Remove(arg.ptr())
			return 0
		},
		api.IDcuMemSetAccess: ok,
		api.IDcuMemcpyHtoD_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyHtoD_v2Args{a}
			copy(s.dev(arg.dstDevice(), arg.ByteCount()), arg.srcHost())
			return 0
		},
		api.IDcuMemcpyHtoDAsync_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyHtoDAsync_v2Args{a}
			copy(s.dev(arg.dstDevice(), arg.ByteCount()), arg.srcHost())
			return 0
		},
		api.IDcuMemcpyDtoH_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyDtoH_v2Args{a}
			copy(arg.dstHost(), s.dev(arg.srcDevice(), arg.ByteCount()))
			return 0
		},
		api.IDcuMemcpyDtoD_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyDtoD_v2Args{a}
			copy(s.dev(arg.dstDevice(), arg.ByteCount()), s.dev(arg.srcDevice(), arg.ByteCount()))
			return 0
		},
		api.IDcuMemcpyDtoDAsync_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyDtoDAsync_v2Args{a}
			copy(s.dev(arg.dstDevice(), arg.ByteCount()), s.dev(arg.srcDevice(), arg.ByteCount()))
			s.addWork(arg.hStream())
			return 0
		},
		// peer copies between two GPUs of the host (the session checked both ranges)
		api.IDcuMemcpyPeer: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyPeerArgs{a}
			copy(s.dev(arg.dstDevice(), arg.ByteCount()), s.dev(arg.srcDevice(), arg.ByteCount()))
			return 0
		},
		api.IDcuMemcpyPeerAsync: func(s *Sim, a *Args) int32 {
			arg := cuMemcpyPeerAsyncArgs{a}
			copy(s.dev(arg.dstDevice(), arg.ByteCount()), s.dev(arg.srcDevice(), arg.ByteCount()))
			return 0
		},
		api.IDcuDeviceCanAccessPeer: devFn(1, devFn(2, func(s *Sim, a *Args) int32 {
			arg := cuDeviceCanAccessPeerArgs{a}
			can := uint32(0)
			if arg.dev() != arg.peerDev() {
				can = 1 // two GPUs of one host reach each other
			}
			put32(arg.canAccessPeer(), can)
			return 0
		})),
		api.IDcuMemsetD8_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemsetD8_v2Args{a}
			fill(s.dev(arg.dstDevice(), arg.N()), 1, arg.uc())
			return 0
		},
		api.IDcuMemsetD8Async: func(s *Sim, a *Args) int32 {
			arg := cuMemsetD8AsyncArgs{a}
			fill(s.dev(arg.dstDevice(), arg.N()), 1, arg.uc())
			return 0
		},
		api.IDcuMemsetD16_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemsetD16_v2Args{a}
			fill(s.dev(arg.dstDevice(), arg.N()*2), 2, arg.us())
			return 0
		},
		api.IDcuMemsetD32_v2: func(s *Sim, a *Args) int32 {
			arg := cuMemsetD32_v2Args{a}
			fill(s.dev(arg.dstDevice(), arg.N()*4), 4, arg.ui())
			return 0
		},
		api.IDcuMemsetD32Async: func(s *Sim, a *Args) int32 {
			arg := cuMemsetD32AsyncArgs{a}
			fill(s.dev(arg.dstDevice(), arg.N()*4), 4, arg.ui())
			return 0
		},
		api.IDcuMemGetAllocationGranularity: func(s *Sim, a *Args) int32 {
			arg := cuMemGetAllocationGranularityArgs{a}
			put64(arg.granularity(), 2<<20)
			return 0
		},
		api.IDcuStreamCreate: func(s *Sim, a *Args) int32 {
			arg := cuStreamCreateArgs{a}
			put64(arg.phStream(), s.newHandle())
			return 0
		},
		api.IDcuStreamDestroy_v2: func(s *Sim, a *Args) int32 {
			arg := cuStreamDestroy_v2Args{a}
			delete(s.busy, arg.hStream())
			return 0
		},
		api.IDcuStreamSynchronize: ok, // (Invoke waits)
		api.IDcuStreamQuery: func(s *Sim, a *Args) int32 {
			arg := cuStreamQueryArgs{a}
			return notReady(s.busy[arg.hStream()])
		},
		api.IDcuStreamWaitEvent: ok,
		api.IDcuEventCreate: func(s *Sim, a *Args) int32 {
			arg := cuEventCreateArgs{a}
			put64(arg.phEvent(), s.newHandle())
			return 0
		},
		api.IDcuEventDestroy_v2: func(s *Sim, a *Args) int32 {
			arg := cuEventDestroy_v2Args{a}
			delete(s.events, arg.hEvent())
			return 0
		},
		api.IDcuEventRecord: func(s *Sim, a *Args) int32 {
			arg := cuEventRecordArgs{a}
			t := time.Now()
			if b := s.busy[arg.hStream()]; b.After(t) {
				t = b // recorded once the stream's simulated work is over
			}
			s.events[arg.hEvent()] = t
			return 0
		},
		api.IDcuEventSynchronize: ok, // (Invoke waits)
		api.IDcuEventQuery: func(s *Sim, a *Args) int32 {
			arg := cuEventQueryArgs{a}
			return notReady(s.events[arg.hEvent()])
		},
		api.IDcuEventElapsedTime_v2: func(s *Sim, a *Args) int32 {
			arg := cuEventElapsedTime_v2Args{a}
			t0, ok0 := s.events[arg.hStart()]
			t1, ok1 := s.events[arg.hEnd()]
			if !ok0 || !ok1 {
				return cuErrNotReady
			}
			put32(arg.pMilliseconds(), math.Float32bits(float32(t1.Sub(t0).Seconds()*1000)))
			return 0
		},

		// NVML
		api.IDnvmlSystemGetDriverVersion: func(s *Sim, a *Args) int32 {
			arg := nvmlSystemGetDriverVersionArgs{a}
			if len(arg.version()) < len(simNVMLDriver)+1 {
				return nvmlErrInsufficient
			}
			putString(arg.version(), simNVMLDriver)
			return 0
		},
		api.IDnvmlDeviceGetCount_v2: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetCount_v2Args{a}
			put32(arg.deviceCount(), uint32(s.ndev))
			return 0
		},
		api.IDnvmlDeviceGetHandleByIndex_v2: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetHandleByIndex_v2Args{a}
			i := uint32(arg.index()) // an unsigned int: the word's upper bits are not the caller's
			if i >= uint32(s.ndev) {
				return 2
			}
			put64(arg.device(), simNVMLHandle(int(i)))
			return 0
		},
		api.IDnvmlDeviceGetName: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetNameArgs{a}
			if len(arg.name()) < len(SimName)+1 {
				return nvmlErrInsufficient
			}
			putString(arg.name(), SimName)
			return 0
		},
		api.IDnvmlDeviceGetUUID: nvFn(func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetUUIDArgs{a}
			u := s.uuidString(h)
			if len(arg.uuid()) < len(u)+1 {
				return nvmlErrInsufficient
			}
			putString(arg.uuid(), u)
			return 0
		}),
		api.IDnvmlSystemGetNVMLVersion: func(s *Sim, a *Args) int32 {
			arg := nvmlSystemGetNVMLVersionArgs{a}
			if len(arg.version()) < len(simNVMLVersion)+1 {
				return nvmlErrInsufficient
			}
			putString(arg.version(), simNVMLVersion)
			return 0
		},
		api.IDnvmlSystemGetCudaDriverVersion: func(s *Sim, a *Args) int32 {
			arg := nvmlSystemGetCudaDriverVersionArgs{a}
			put32(arg.cudaDriverVersion(), simDriver)
			return 0
		},
		api.IDnvmlSystemGetCudaDriverVersion_v2: func(s *Sim, a *Args) int32 {
			arg := nvmlSystemGetCudaDriverVersion_v2Args{a}
			put32(arg.cudaDriverVersion(), simDriver)
			return 0
		},
		api.IDnvmlDeviceGetHandleByUUID: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetHandleByUUIDArgs{a}
			for h := 0; h < s.ndev; h++ {
				if stringUntilNUL(arg.uuid()) == s.uuidString(h) {
					put64(arg.device(), simNVMLHandle(h))
					return 0
				}
			}
			return nvmlErrNotFound
		},
		api.IDnvmlDeviceGetHandleByPciBusId_v2: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetHandleByPciBusId_v2Args{a}
			for h := 0; h < s.ndev; h++ {
				if id, b := stringUntilNUL(arg.pciBusId()), simPCIBusIDOf(h); id == b || id == b[4:] {
					put64(arg.device(), simNVMLHandle(h))
					return 0
				}
			}
			return nvmlErrNotFound
		},
		api.IDnvmlDeviceGetIndex: nvFn(func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetIndexArgs{a}
			put32(arg.index(), uint32(h))
			return 0
		}),
		api.IDnvmlDeviceGetMinorNumber: nvFn(func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetMinorNumberArgs{a}
			put32(arg.minorNumber(), uint32(h))
			return 0
		}),
		api.IDnvmlDeviceGetSerial: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetSerialArgs{a}
			if len(arg.serial()) < len(simSerial)+1 {
				return nvmlErrInsufficient
			}
			putString(arg.serial(), simSerial)
			return 0
		},
		api.IDnvmlDeviceGetCudaComputeCapability: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetCudaComputeCapabilityArgs{a}
			put32(arg.major(), 9)
			put32(arg.minor(), 0)
			return 0
		},
		api.IDnvmlDeviceGetPciInfo_v3: nvFn(simPCI),
		api.IDnvmlDeviceGetPciInfo_v2: nvFn(simPCI),
		api.IDnvmlDeviceGetMemoryInfo_v2: nvFn(func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetMemoryInfo_v2Args{a}
			m := arg.memory()
			put64(m[8:], simTotalMem)
			put64(m[16:], 0)
			put64(m[24:], simTotalMem-s.used[h])
			put64(m[32:], s.used[h])
			return 0
		}),
		api.IDnvmlDeviceGetUtilizationRates: func(s *Sim, a *Args) int32 {
			arg := nvmlDeviceGetUtilizationRatesArgs{a}
			clear(arg.utilization())
			return 0
		},
		api.IDnvmlDeviceGetMemoryInfo: nvFn(func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetMemoryInfoArgs{a}
			put64(arg.memory()[0:], simTotalMem)
			put64(arg.memory()[8:], simTotalMem-s.used[h])
			put64(arg.memory()[16:], s.used[h])
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
			elem, compute := f.Params[2].Elem, f.Processes == api.ComputeProcesses
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
