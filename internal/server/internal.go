package server

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// The rows named in internal.go's log lines.
var (
	launchKernelRow = &api.Table[api.IDvgpuLaunchKernel]
	memcpy2DRow     = &api.Table[api.IDvgpuMemcpy2D]
)

// Internal rows are vgpu's own batches: the session serves them with the backend's ordinary calls.
func (s *Session) internal(id api.ID, f *api.Func, a *Args) int32 {
	switch id {
	case api.IDvgpuDeviceGetAttributes:
		return s.deviceAttributes(a)
	case api.IDvgpuFuncGetParamLayout, api.IDvgpuLaunchKernel, api.IDvgpuMemcpy2D, api.IDvgpuStreamGetCaptureInfo:
		ex, ok := s.be.(Executor)
		if !ok {
			code := f.Lib().Info().NotSupported
			logOnce("sim-exec:"+f.Name, fmt.Sprintf("the %s backend cannot run kernels (%s returns %d)", s.be.Name(), f.Name, code), slog.String("function", f.Name), slog.Int("code", int(code)))
			return code
		}
		switch id {
		case api.IDvgpuFuncGetParamLayout:
			return s.paramLayout(ex, a)
		case api.IDvgpuLaunchKernel:
			return s.launch(ex, a)
		case api.IDvgpuStreamGetCaptureInfo:
			status, id, graph, deps, r := ex.CaptureInfo(a.Vals[0])
			if r != 0 {
				return r
			}
			le := binary.LittleEndian
			le.PutUint32(a.Out[1], status)
			le.PutUint64(a.Out[2], id)
			le.PutUint64(a.Out[3], graph)
			for i, d := range deps[:min(len(deps), 64)] {
				le.PutUint64(a.Out[4][8*i:], d)
			}
			le.PutUint64(a.Out[5], uint64(len(deps)))
			return 0
		default:
			return s.memcpy2D(ex, a)
		}
	case api.IDvgpuPointerGetAttributes:
		pa, ok := s.be.(PointerAttributer)
		if !ok {
			return f.Lib().Info().NotSupported
		}
		return pa.PointerAttributes(a.In[0], a.Vals[2], a.Out[3])
	case api.IDvgpuShmHtoD, api.IDvgpuShmDtoH, api.IDvgpuShmHtoDAsync:
		return s.shmCopy(id, f, a)
	case api.IDvgpuRunsHtoDAsync:
		return s.runsUpload(f, a)
	case api.IDvgpuBlocksHtoDAsync:
		return s.blocksUpload(f, a)
	case api.IDvgpuShmFence:
		if sc, ok := s.be.(ShmCopier); ok {
			return sc.ShmFence()
		}
		return f.Lib().Info().NotSupported
	case api.IDvgpuGetErrorString:
		es, ok := s.be.(ErrorStringer)
		if !ok {
			return f.Lib().Info().NotSupported
		}
		text, ok := es.ErrorString(api.Lib(int32(uint32(a.Vals[0]))), int32(uint32(a.Vals[1])))
		if !ok {
			return 1 // CUDA_ERROR_INVALID_VALUE: the driver knows no such code
		}
		putString(a.Out[2], text)
		return 0
	case api.IDvgpuNvmlPrivateReading:
		slot := uint32(a.Vals[1])
		if ps, ok := api.NVMLPrivateSlots[slot]; !ok || !ps.Length && len(a.Out[2]) != ps.Size || ps.Length && (len(a.Out[2]) == 0 || len(a.Out[2]) > ps.Size) {
			logOnce("private-slot-refused", fmt.Sprintf("a client asked for slot %d of nvidia-smi's private table with a %d-byte value, which vgpu does not forward (logged once)", slot, len(a.Out[2])), slog.Int("slot", int(slot)))
			return 2 // NVML_ERROR_INVALID_ARGUMENT
		}
		pr, ok := s.be.(NVMLPrivateReader)
		if !ok {
			return f.Lib().Info().NotSupported
		}
		return pr.NVMLPrivateReading(slot, a.Vals[0], a.Out[2])
	}
	return f.Lib().Info().NotSupported
}

// NVMLPrivateReader is a backend that answers readings of nvidia-smi's private NVML table
// (api.NVMLPrivateSlots): slot called as (device, value) or (device, value, len(value)).
type NVMLPrivateReader interface {
	NVMLPrivateReading(slot uint32, device uint64, value []byte) int32
}

// deviceAttributes fills 8 bytes per attribute id 1, 2, ...: the value and the result of
// cuDeviceGetAttribute for it.
func (s *Session) deviceAttributes(a *Args) int32 {
	id, f := api.IDcuDeviceGetAttribute, &api.Table[api.IDcuDeviceGetAttribute]
	out := a.Out[0]
	dev := a.Vals[2]
	one := &Args{Vals: make([]uint64, 3), In: make([][]byte, 3), Out: [][]byte{make([]byte, 4), nil, nil}}
	for k := 0; 8*k+8 <= len(out); k++ {
		one.Vals[1], one.Vals[2] = uint64(k+1), dev
		clear(one.Out[0])
		r := s.be.Invoke(id, f, one)
		copy(out[8*k:], one.Out[0])
		binary.LittleEndian.PutUint32(out[8*k+4:], uint32(r))
	}
	return 0
}

// ErrorStringer is a backend that knows its libraries' own texts for error codes.
type ErrorStringer interface {
	ErrorString(lib api.Lib, code int32) (string, bool)
}

// Executor is a backend that runs kernels and 2D copies (the real one).
type Executor interface {
	// ParamLayout returns the (offset, size) of each parameter of a CUfunction (or, with
	// kernel, a CUkernel).
	ParamLayout(fn uint64, kernel bool) ([][2]uint64, int32)
	Launch(l *Launch) int32
	// Memcpy2D runs a CUDA_MEMCPY2D whose host side, if any, is in (source) or out (destination).
	Memcpy2D(desc, in, out []byte, stream uint64) int32
	// CaptureInfo is cuStreamGetCaptureInfo_v3: status, capture id, graph, dependency nodes.
	CaptureInfo(stream uint64) (uint32, uint64, uint64, []uint64, int32)
}

// PointerAttributer answers cuPointerGetAttributes for the attributes in attrs (4 bytes each):
// into out, per attribute, the number of bytes the driver wrote (8 bytes) and those bytes (a
// 64-byte slot).
type PointerAttributer interface {
	PointerAttributes(attrs []byte, ptr uint64, out []byte) int32
}

// Launch is one checked kernel launch.
type Launch struct {
	Func        uint64
	Grid, Block [3]uint32
	SharedMem   uint32
	Stream      uint64
	Cooperative bool
	Params      []byte      // packed by Layout
	Layout      [][2]uint64 // (offset, size) per parameter
	Attrs       []byte      // CUlaunchAttribute records, 72 bytes each
}

// layout returns a function's parameter layout, asked of the backend once per function.
func (s *Session) layout(ex Executor, fn uint64) ([][2]uint64, int32) {
	if l, ok := s.layouts[fn]; ok {
		return l, 0
	}
	l, r := ex.ParamLayout(fn, s.handles[fn] == api.HKernel)
	if r != 0 {
		return nil, r
	}
	if s.layouts == nil {
		s.layouts = map[uint64][][2]uint64{}
	}
	s.layouts[fn] = l
	return l, 0
}

// paramLayout answers vgpuFuncGetParamLayout: the count, then (offset, size) pairs.
func (s *Session) paramLayout(ex Executor, a *Args) int32 {
	l, r := s.layout(ex, a.Vals[0])
	if r != 0 {
		return r
	}
	out := a.Out[1]
	if 8+16*len(l) > len(out) {
		return 1
	}
	binary.LittleEndian.PutUint64(out, uint64(len(l)))
	for i, p := range l {
		binary.LittleEndian.PutUint64(out[8+16*i:], p[0])
		binary.LittleEndian.PutUint64(out[16+16*i:], p[1])
	}
	return 0
}

// launchAttrOK: launch attributes whose values hold no pointer the driver would follow.
var launchAttrOK = map[uint32]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 8: true, 9: true, 10: true, 11: true, 13: true, 14: true, 16: true}

func (s *Session) launch(ex Executor, a *Args) int32 {
	fn := a.Vals[0]
	l, r := s.layout(ex, fn)
	if r != 0 {
		return r
	}
	params, attrs := a.In[10], a.In[12]
	need := uint64(0)
	for _, p := range l {
		need = max(need, p[0]+p[1])
	}
	if uint64(len(params)) != need {
		s.logCall("vgpuLaunchKernel refused", launchKernelRow, 1, "vgpuLaunchKernel refused: %d parameter bytes, the function takes %d", len(params), need)
		return 1
	}
	if len(attrs)%72 != 0 {
		return 1
	}
	for i := 0; i < len(attrs); i += 72 {
		if id := binary.LittleEndian.Uint32(attrs[i:]); !launchAttrOK[id] {
			s.logCall("vgpuLaunchKernel refused", launchKernelRow, 801, "vgpuLaunchKernel refused: launch attribute %d", id)
			return 801
		}
	}
	u := func(i int) uint32 { return uint32(a.Vals[i]) }
	// one Launch per session, reused (a launch is the most frequent call)
	s.launchArgs = Launch{
		Func: fn, Grid: [3]uint32{u(1), u(2), u(3)}, Block: [3]uint32{u(4), u(5), u(6)}, SharedMem: u(7),
		Stream: a.Vals[8], Cooperative: a.Vals[9]&1 != 0, Params: params, Layout: l, Attrs: attrs,
	}
	return ex.Launch(&s.launchArgs)
}

// memcpy2D checks both sides of a CUDA_MEMCPY2D: device rows inside one allocation, host
// sides exactly the packed buffers the client sent or expects.
func (s *Session) memcpy2D(ex Executor, a *Args) int32 {
	d := a.In[0]
	le := binary.LittleEndian
	w, h := le.Uint64(d[112:]), le.Uint64(d[120:])
	in, out := a.In[1], a.Out[3]
	if w == 0 || h == 0 || w > 1<<30 || h > 1<<30 {
		return 1
	}
	check := func(typ, x, y, dev, pitch int, host []byte, hostName string) string {
		switch le.Uint32(d[typ:]) {
		case 1: // host: the packed buffer
			if uint64(len(host)) != w*h {
				return fmt.Sprintf("%s carries %d bytes for a %dx%d copy", hostName, len(host), w, h)
			}
			if le.Uint64(d[x:]) != 0 || le.Uint64(d[y:]) != 0 || le.Uint64(d[pitch:]) != w {
				return "packed host rows must start at 0 with pitch = width"
			}
		case 2: // device: rows from dev + y*pitch + x, the last ending (h-1)*pitch + w later
			p := le.Uint64(d[pitch:])
			if p < w {
				return "pitch smaller than the width"
			}
			rowOff, ok1 := mulSize(le.Uint64(d[y:]), p)
			base, ok2 := addSize(le.Uint64(d[dev:]), le.Uint64(d[x:]))
			base, ok3 := addSize(base, rowOff)
			span, ok4 := mulSize(h-1, p)
			span, ok5 := addSize(span, w)
			if !(ok1 && ok2 && ok3 && ok4 && ok5) {
				return fmt.Sprintf("device rows (pitch %d, %d rows from row %d) overflow the address space", p, h, le.Uint64(d[y:]))
			}
			if _, _, ok := s.allocs.Find(base, span); !ok {
				return fmt.Sprintf("device rows [%#x, +%d) are not inside an allocation of this session", base, span)
			}
		default:
			return "only host and device memory are supported"
		}
		return ""
	}
	if why := check(16, 0, 8, 32, 48, in, "the source"); why != "" {
		s.logCall("vgpuMemcpy2D refused", memcpy2DRow, 1, "vgpuMemcpy2D refused: %s", why)
		return 1
	}
	if why := check(72, 56, 64, 88, 104, out, "the destination"); why != "" {
		s.logCall("vgpuMemcpy2D refused", memcpy2DRow, 1, "vgpuMemcpy2D refused: %s", why)
		return 1
	}
	return ex.Memcpy2D(d, in, out, a.Vals[5])
}

// ShmCopier is a backend that copies between device memory and host memory given as a slice
// (the session's shared memory): synchronously, on the stream.
type ShmCopier interface {
	CopyHtoD(dst uint64, src []byte, stream uint64) int32
	CopyDtoH(dst []byte, src uint64, stream uint64) int32
	// CopyHtoDAsync queues the copy on the stream and returns; src stays untouched until
	// ShmFence, which returns once every queued copy has finished (its first failure).
	CopyHtoDAsync(dst uint64, src []byte, stream uint64) int32
	ShmFence() int32
}

// shmCopy serves vgpuShmHtoD / vgpuShmDtoH (device pointer, shm offset, bytes, stream): the
// device range was checked with the call; the shared-memory range is checked here.
func (s *Session) shmCopy(id api.ID, f *api.Func, a *Args) int32 {
	dev, off, n, stream := a.Vals[0], a.Vals[1], a.Vals[2], a.Vals[3]
	sc, ok := s.be.(ShmCopier)
	if !ok || s.shm == nil {
		return f.Lib().Info().NotSupported
	}
	if n == 0 {
		return 0 // nothing to copy (the backend's copies take at least a byte)
	}
	if off > uint64(len(s.shm)) || n > uint64(len(s.shm))-off {
		s.logCall(f.Name+" refused", f, 1, "%s refused: [%d, +%d) is outside the %d bytes of shared memory", f.Name, off, n, len(s.shm))
		return 1
	}
	if !s.shmTried && s.policy.NoPin {
		s.logf("the shared memory is not page-locked (the server's max_pinned_shared_memory is taken): copies through it are staged by the driver")
		s.shmTried = true
	} else if !s.shmTried {
		if p, ok := s.be.(Pinner); ok {
			t0 := time.Now()
			s.shmPinned = p.Pin(s.shm)
			if s.stats != nil {
				s.stats.pin = time.Since(t0)
			}
			if !s.shmPinned {
				s.logf("the shared memory could not be page-locked: copies through it are staged by the driver")
			}
		}
		s.shmTried = true
	}
	switch id {
	case api.IDvgpuShmHtoD:
		return sc.CopyHtoD(dev, s.shm[off:off+n], stream)
	case api.IDvgpuShmHtoDAsync:
		return sc.CopyHtoDAsync(dev, s.shm[off:off+n], stream)
	}
	return sc.CopyDtoH(s.shm[off:off+n], dev, stream)
}

// runsMax bounds an upload sent as runs or blocks: the client sends no piece larger (client.chunkSize).
const runsMax = 16 << 20

// runsUpload serves vgpuRunsHtoDAsync: the runs expanded (expandedUpload).
func (s *Session) runsUpload(f *api.Func, a *Args) int32 {
	in := vgpuRunsHtoDAsyncArgs{a}
	return s.expandedUpload(f, a, in.dst(), in.n(), in.hStream(), func(buf []byte) error {
		return remoting.DecodeRuns(buf, in.runs())
	})
}

// blocksUpload serves vgpuBlocksHtoDAsync: the blocks filled from the call and the session's
// cache of blocks (expandedUpload). The cache is made by the first such call, of the size it
// names; a call naming another size, or whose count of blocks stored before it is not the
// cache's (a call before it was refused before its blocks were stored), is refused, and so is
// every later one: the client's cache and this one no longer hold the same blocks.
func (s *Session) blocksUpload(f *api.Func, a *Args) int32 {
	in := vgpuBlocksHtoDAsyncArgs{a}
	slots := in.slots()
	if slots == 0 || slots > remoting.MaxBlockSlots {
		s.logCall(f.Name+" refused", f, 1, "%s refused: a cache of %d blocks (1 to %d)", f.Name, slots, remoting.MaxBlockSlots)
		return 1
	}
	if s.blocks == nil {
		s.blocks = remoting.NewBlockCache(int(slots))
	}
	if c := s.blocks; uint64(c.Slots()) != slots || c.Stored != in.stored() {
		s.logCall(f.Name+" refused", f, 1, "%s refused: the client's cache of uploaded blocks (%d slots, %d stored) is not this session's (%d slots, %d stored)",
			f.Name, slots, in.stored(), c.Slots(), c.Stored)
		return 1
	}
	return s.expandedUpload(f, a, in.dst(), in.n(), in.hStream(), func(buf []byte) error {
		return s.blocks.Decode(buf, in.blocks())
	})
}

// expandedUpload serves an upload sent in fewer bytes than it has (runs, blocks): fill writes
// its n bytes into the page-locked frame buffer the next large frame would be read into, where
// the session has one (pinned.go: its DMA is queued as an uploaded frame's is, without waiting),
// else into pageable memory, which the driver copies before the call returns.
func (s *Session) expandedUpload(f *api.Func, a *Args, dst, n, stream uint64, fill func([]byte) error) int32 {
	if n == 0 {
		return 0
	}
	if n > runsMax {
		s.logCall(f.Name+" refused", f, 1, "%s refused: %d bytes expand past %d", f.Name, n, runsMax)
		return 1
	}
	s.pinPayloads(pinnedPayloadMin)
	pb := &s.pinned
	// (not where the call itself came in that buffer: a frame of a MiB or more)
	pinned := !s.frame.pinned && pb.payload[pb.cur] != nil && uint64(len(pb.payload[pb.cur])) >= n
	var buf []byte
	if pinned {
		buf = pb.payload[pb.cur][:n]
	} else {
		if uint64(cap(s.runsBuf)) < n {
			s.runsBuf = make([]byte, n)
		}
		buf = s.runsBuf[:n]
	}
	if err := fill(buf); err != nil {
		s.logCall(f.Name+" refused", f, 1, "%s refused: %v", f.Name, err)
		return 1
	}
	up := &Args{Vals: []uint64{dst, 0, n, stream}, In: [][]byte{nil, buf, nil, nil}, Out: make([][]byte, 4), Thread: a.Thread}
	if pinned {
		return s.uploadFromFrame(htodAsyncID, &api.Table[htodAsyncID], up)
	}
	return s.be.Invoke(htodAsyncID, &api.Table[htodAsyncID], up)
}
