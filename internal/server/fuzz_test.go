package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// guard is the backend of FuzzSessionExec: the simulated device, behind a check of everything
// the real backend takes on trust from the session (it hands the host driver raw pointers and
// counts): every input buffer exactly as long as its count says, every output buffer at least
// as long, every device range with a count inside one allocation the device made, host
// pointers NULL, shared-memory copies of at least a byte. A breach panics, which the fuzzer
// reports. Sizes are computed without wrapping (math/big).
// A create whose handle the client mints (api.P.Minted; cuBLASLt's, which the simulated device
// lacks) gets a handle of the library's own, and no minted handle may reach the library as an
// argument.
type guard struct {
	*Sim
	made uint64 // the library handles the creates of minted handles got
}

func (g *guard) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	g.check(f, a)
	for i := range f.Params {
		if f.Params[i].Minted {
			g.made++
			binary.LittleEndian.PutUint64(a.Out[i], 0x7e000000+g.made*16)
			return 0
		}
	}
	return g.Sim.Invoke(id, f, a)
}

// count is the value the callee reads from parameter j as a count: C int and unsigned int are
// 32 bits wide; an InOutVal is read through its pointer, at its full width.
func count(f *api.Func, a *Args, spec string) *big.Int {
	if n, ok := api.SpecNumber(spec); ok {
		return new(big.Int).SetUint64(n)
	}
	j := f.ParamIndex(spec)
	if j < 0 {
		panic(fmt.Sprintf("%s: no parameter %s", f.Name, spec))
	}
	p := &f.Params[j]
	if p.Kind == api.InOutVal {
		return new(big.Int).SetUint64(le64(a.Out[j]))
	}
	v := a.Vals[j]
	switch p.C {
	case "int":
		if int32(uint32(v)) < 0 {
			panic(fmt.Sprintf("%s: negative count %s = %d reached the backend", f.Name, spec, int32(uint32(v))))
		}
		v = uint64(uint32(v))
	case "unsigned int":
		v = uint64(uint32(v))
	}
	return new(big.Int).SetUint64(v)
}

func bytesOf(f *api.Func, a *Args, spec string, elem int) *big.Int {
	return new(big.Int).Mul(count(f, a, spec), big.NewInt(int64(max(elem, 1))))
}

// inside panics unless [p, p+n) lies inside one allocation of the simulated device.
func (g *guard) inside(what string, p uint64, n *big.Int) {
	if !n.IsUint64() {
		panic(fmt.Sprintf("%s: %v bytes at %#x reached the backend", what, n, p))
	}
	base, _, ok := g.Sim.allocs.Find(p, n.Uint64())
	if !ok {
		panic(fmt.Sprintf("%s: [%#x, +%v) is outside every allocation of the device", what, p, n))
	}
	end := new(big.Int).Add(new(big.Int).SetUint64(p), n)
	size := g.Sim.mem[base]
	if end.Cmp(new(big.Int).SetUint64(base+uint64(len(size)))) > 0 {
		panic(fmt.Sprintf("%s: [%#x, +%v) runs past the allocation at %#x", what, p, n, base))
	}
}

func (g *guard) check(f *api.Func, a *Args) {
	if len(a.Vals) != len(f.Params) || len(a.In) != len(f.Params) || len(a.Out) != len(f.Params) {
		panic(fmt.Sprintf("%s: %d/%d/%d argument slots for %d parameters", f.Name, len(a.Vals), len(a.In), len(a.Out), len(f.Params)))
	}
	for i := range f.Params {
		p := &f.Params[i]
		switch p.Kind {
		case api.HostPtr:
			if a.Vals[i] != 0 {
				panic(fmt.Sprintf("%s: host pointer %s = %#x reached the backend", f.Name, p.Name, a.Vals[i]))
			}
		case api.Handle:
			if api.IsMinted(a.Vals[i]) {
				panic(fmt.Sprintf("%s: the client's minted handle %s = %#x reached the backend", f.Name, p.Name, a.Vals[i]))
			}
		case api.DevPtr:
			if p.Range != "" && !p.Frees {
				g.inside(f.Name+" "+p.Name, a.Vals[i], bytesOf(f, a, p.Range, p.Elem))
			}
		case api.InBuf:
			if want := bytesOf(f, a, p.Size, p.Elem); want.Cmp(big.NewInt(int64(len(a.In[i])))) != 0 {
				panic(fmt.Sprintf("%s: %s has %d bytes, the callee reads %v", f.Name, p.Name, len(a.In[i]), want))
			}
		case api.InStr:
			if n := len(a.In[i]); n == 0 || a.In[i][n-1] != 0 {
				panic(fmt.Sprintf("%s: %s is not NUL-terminated", f.Name, p.Name))
			}
		case api.OutVal, api.OutBuf, api.InOutVal:
			elem := 1
			if p.Kind == api.OutBuf {
				elem = p.Elem
			}
			if want := bytesOf(f, a, p.Size, elem); want.Cmp(big.NewInt(int64(len(a.Out[i])))) > 0 {
				if len(a.Out[i]) == 0 && p.Nullable {
					continue // passed as NULL
				}
				panic(fmt.Sprintf("%s: %s has %d bytes, the callee may write %v", f.Name, p.Name, len(a.Out[i]), want))
			}
		case api.OutHandle, api.OutDevPtr:
			if len(a.Out[i]) < 8 {
				panic(fmt.Sprintf("%s: %s has %d bytes", f.Name, p.Name, len(a.Out[i])))
			}
		}
	}
}

// Executor, for the internal rows the real backend serves.

func (g *guard) ParamLayout(fn uint64, kernel bool) ([][2]uint64, int32) {
	return [][2]uint64{{0, 8}, {8, 4}}, 0
}

func (g *guard) Launch(l *Launch) int32 {
	if len(l.Params) != 12 || len(l.Attrs)%72 != 0 {
		panic(fmt.Sprintf("launch with %d parameter bytes (layout: 12), %d attribute bytes", len(l.Params), len(l.Attrs)))
	}
	return 0
}

// Memcpy2D checks each side as the driver would walk it: h rows of w bytes, pitch apart.
func (g *guard) Memcpy2D(desc, in, out []byte, stream uint64) int32 {
	le := binary.LittleEndian
	if len(desc) != 128 {
		panic(fmt.Sprintf("vgpuMemcpy2D: descriptor of %d bytes", len(desc)))
	}
	w, h := le.Uint64(desc[112:]), le.Uint64(desc[120:])
	side := func(typ, x, y, dev, pitch int, host []byte) {
		switch le.Uint32(desc[typ:]) {
		case 1:
			if n := new(big.Int).Mul(new(big.Int).SetUint64(w), new(big.Int).SetUint64(h)); n.Cmp(big.NewInt(int64(len(host)))) != 0 {
				panic(fmt.Sprintf("vgpuMemcpy2D: host side of %d bytes for %dx%d", len(host), w, h))
			}
		case 2:
			u := func(off int) *big.Int { return new(big.Int).SetUint64(le.Uint64(desc[off:])) }
			start := new(big.Int).Add(u(dev), u(x))
			start.Add(start, new(big.Int).Mul(u(y), u(pitch)))
			span := new(big.Int).Mul(new(big.Int).SetUint64(h-1), u(pitch))
			span.Add(span, new(big.Int).SetUint64(w))
			if !start.IsUint64() {
				panic(fmt.Sprintf("vgpuMemcpy2D: first row at %v", start))
			}
			g.inside("vgpuMemcpy2D", start.Uint64(), span)
		default:
			panic("vgpuMemcpy2D: memory type " + fmt.Sprint(le.Uint32(desc[typ:])))
		}
	}
	side(16, 0, 8, 32, 48, in)
	side(72, 56, 64, 88, 104, out)
	return 0
}

func (g *guard) CaptureInfo(stream uint64) (uint32, uint64, uint64, []uint64, int32) {
	return 0, 0, 0, make([]uint64, 70), 0
}

// ShmCopier: the device range and a copy of at least one byte (the real backend takes the
// address of the first).

func (g *guard) shm(what string, dev uint64, b []byte) {
	if len(b) == 0 {
		panic(what + ": an empty copy reached the backend")
	}
	g.inside(what, dev, big.NewInt(int64(len(b))))
}

func (g *guard) CopyHtoD(dst uint64, src []byte, stream uint64) int32 {
	g.shm("CopyHtoD", dst, src)
	return 0
}

func (g *guard) CopyDtoH(dst []byte, src uint64, stream uint64) int32 {
	g.shm("CopyDtoH", src, dst)
	return 0
}

func (g *guard) CopyHtoDAsync(dst uint64, src []byte, stream uint64) int32 {
	g.shm("CopyHtoDAsync", dst, src)
	return 0
}

func (g *guard) ShmFence() int32 { return 0 }

func (g *guard) PointerAttributes(attrs []byte, ptr uint64, out []byte) int32 {
	if len(attrs)%4 != 0 || len(out) < 72*(len(attrs)/4) {
		panic(fmt.Sprintf("vgpuPointerGetAttributes: %d attribute bytes, %d output bytes", len(attrs), len(out)))
	}
	return 0
}

func (g *guard) ErrorString(lib api.Lib, code int32) (string, bool) { return "error", true }

func (g *guard) Pin(b []byte) bool { return true }

// fuzzShm is the fuzz session's shared memory.
const fuzzShm = 1 << 20

// fuzzSession is a session on a guard with, from its first calls, a context and two
// allocations: fuzzBufA (4096 bytes) and fuzzBufB (1 MiB).
func fuzzSession(t testing.TB) *Session {
	s := NewSession(1, nil, &guard{Sim: NewSim()})
	s.logSink = func(string) {}
	s.shm = make([]byte, fuzzShm)
	s.shmTried = true
	for _, c := range []struct {
		name string
		args []uint64
	}{{"cuInit", []uint64{0}}, {"cuDevicePrimaryCtxRetain", []uint64{0, 0}}, {"cuMemAlloc_v2", []uint64{0, 4096}}, {"cuMemAlloc_v2", []uint64{0, 1 << 20}}} {
		id, f, _ := api.Lookup(c.name)
		var scalars []uint64
		for i, p := range f.Params {
			if p.Kind == api.Scalar || p.Kind == api.Handle || p.Kind == api.DevPtr || p.Kind == api.HostPtr {
				scalars = append(scalars, c.args[i])
			}
		}
		if r, _, _, err := s.exec(&remoting.Call{Fn: uint32(id), Scalars: scalars}); r != 0 || err != nil {
			t.Fatalf("setup %s = %d, %v", c.name, r, err)
		}
	}
	if !s.allocs.IsBase(fuzzBufA) || !s.allocs.IsBase(fuzzBufB) {
		t.Fatalf("setup: allocations are not at %#x and %#x", fuzzBufA, fuzzBufB)
	}
	// one handle of every kind (the simulated device creates few), so calls that take them
	// get past the handle checks
	for h := api.HContext; h <= api.HLtPref; h++ {
		s.handles[fuzzHandle(h)] = h
	}
	return s
}

// zeroRuns is 64 KiB of zeros as runs (vgpuRunsHtoDAsync).
var zeroRuns, _ = remoting.EncodeRuns(nil, make([]byte, 64<<10), 64)

// fuzzBlocks is 64 KiB of one repeated 4 KiB block as cached blocks (vgpuBlocksHtoDAsync, a
// cache of 4 slots): the block sent, then named 15 times.
var fuzzBlocks, _ = remoting.NewBlockSender(4).Encode(nil, bytes.Repeat([]byte{7}, 64<<10), nil)

// fuzzHandle is the fuzz session's handle of kind h.
func fuzzHandle(h api.HType) uint64 { return 0x6000000 + uint64(h)*16 }

const (
	fuzzBufA = 0x7f0000000000
	fuzzBufB = 0x7f0000100000
)

// fuzzCalls encodes calls as FuzzSessionExec reads them: each a uvarint length and a Call.
func fuzzCalls(calls ...remoting.Call) []byte {
	var b []byte
	for i := range calls {
		p := remoting.AppendCall(nil, &calls[i])
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func fuzzCall(name string, scalars []uint64, bufs ...[]byte) remoting.Call {
	id, _, ok := api.Lookup(name)
	if !ok {
		panic("no row " + name)
	}
	return remoting.Call{Fn: uint32(id), Scalars: scalars, Bufs: bufs}
}

// memcpy2DDesc is a CUDA_MEMCPY2D: source and destination memory types (1 host, 2 device),
// device addresses, pitches, width and height.
func memcpy2DDesc(srcType, dstType uint32, src, srcPitch, dst, dstPitch, w, h uint64) []byte {
	d := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(d[16:], srcType)
	le.PutUint64(d[32:], src)
	le.PutUint64(d[48:], srcPitch)
	le.PutUint32(d[72:], dstType)
	le.PutUint64(d[88:], dst)
	le.PutUint64(d[104:], dstPitch)
	le.PutUint64(d[112:], w)
	le.PutUint64(d[120:], h)
	return d
}

// rowSeed is a call of row id with plausible arguments: device pointers into fuzzBufA, one
// handle of each kind, 16 for every count, buffers as long as their counts say.
func rowSeed(id api.ID) remoting.Call {
	f := &api.Table[id]
	isCount := map[string]bool{}
	for _, p := range f.Params {
		isCount[p.Size], isCount[p.Range] = true, true
	}
	c := remoting.Call{Fn: uint32(id)}
	for _, p := range f.Params {
		size := func(spec string, elem int) int {
			n, ok := api.SpecNumber(spec)
			if !ok {
				n = 16
			}
			return int(n) * max(elem, 1)
		}
		if p.Minted {
			c.Scalars = append(c.Scalars, api.MintedHandle(1))
			continue
		}
		switch p.Kind {
		case api.Scalar:
			v := uint64(0)
			if isCount[p.Name] {
				v = 16
			}
			c.Scalars = append(c.Scalars, v)
		case api.Handle:
			c.Scalars = append(c.Scalars, fuzzHandle(p.H))
		case api.DevPtr:
			c.Scalars = append(c.Scalars, fuzzBufA)
		case api.HostPtr:
			c.Scalars = append(c.Scalars, 0)
		case api.InBuf:
			c.Bufs = append(c.Bufs, make([]byte, size(p.Size, p.Elem)))
		case api.InStr:
			c.Bufs = append(c.Bufs, []byte("x"))
		case api.InOutVal:
			b := make([]byte, size(p.Size, 1))
			b[0] = 2
			c.Bufs = append(c.Bufs, b)
		}
	}
	return c
}

// memcpy2DDesc2Y sets the source's first row (srcY) of a CUDA_MEMCPY2D.
func memcpy2DDesc2Y(d []byte, y uint64) []byte {
	binary.LittleEndian.PutUint64(d[8:], y)
	return d
}

// fuzzSeeds are the seed inputs, each a case an overflow once let through (or nearly).
func fuzzSeeds() map[string][]byte {
	le8 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	return map[string][]byte{
		"copy-in-range":   fuzzCalls(fuzzCall("cuMemcpyHtoD_v2", []uint64{fuzzBufA + 16, 64}, make([]byte, 64))),
		"copy-past-end":   fuzzCalls(fuzzCall("cuMemcpyHtoD_v2", []uint64{fuzzBufA + 4090, 64}, make([]byte, 64))),
		"memset16-wrap":   fuzzCalls(fuzzCall("cuMemsetD16_v2", []uint64{fuzzBufA, 7, 1 << 63})),
		"memset32-wrap":   fuzzCalls(fuzzCall("cuMemsetD32_v2", []uint64{fuzzBufA, 7, 1<<62 + 1})),
		"dtoh-huge":       fuzzCalls(fuzzCall("cuMemcpyDtoH_v2", []uint64{fuzzBufA, 1<<64 - 1})),
		"memsetaccess-in": fuzzCalls(fuzzCall("cuMemSetAccess", []uint64{fuzzBufA, 16, 1}, make([]byte, 12))),
		// 12 * (2^62+1) wraps to 12: one descriptor sent, 2^62+1 read
		"memsetaccess-wrap": fuzzCalls(fuzzCall("cuMemSetAccess", []uint64{fuzzBufA, 16, 1<<62 + 1}, make([]byte, 12))),
		// numNodes is a size_t: its high half counts too
		"graphnodes-count": fuzzCalls(fuzzCall("cuGraphGetNodes", []uint64{fuzzHandle(api.HGraph)}, le8(1<<32+1))),
		"memcpy2d-ok": fuzzCalls(fuzzCall("vgpuMemcpy2D", []uint64{48, 0, 0},
			memcpy2DDesc(1, 2, 0, 16, fuzzBufA, 64, 16, 3), make([]byte, 48))),
		// h=3, pitch=2^63, w=16: (h-1)*pitch+w wraps to 16
		"memcpy2d-pitch-wrap": fuzzCalls(fuzzCall("vgpuMemcpy2D", []uint64{48, 0, 0},
			memcpy2DDesc(1, 2, 0, 16, fuzzBufA, 1<<63, 16, 3), make([]byte, 48))),
		// the first row's address, y*pitch past it, wraps round to the allocation
		"memcpy2d-base-wrap": fuzzCalls(fuzzCall("vgpuMemcpy2D", []uint64{0, 16, 0},
			memcpy2DDesc2Y(memcpy2DDesc(2, 1, fuzzBufA, 1<<63, 0, 16, 16, 1), 2), nil)),
		"memcpy2d-dtoh": fuzzCalls(fuzzCall("vgpuMemcpy2D", []uint64{0, 64, 0},
			memcpy2DDesc(2, 1, fuzzBufB+100, 1000, 0, 16, 16, 4), nil)),
		"shm-ok":       fuzzCalls(fuzzCall("vgpuShmHtoD", []uint64{fuzzBufB, 4096, 8192, 0})),
		"shm-offset":   fuzzCalls(fuzzCall("vgpuShmDtoH", []uint64{fuzzBufB, 1<<64 - 1, 2, 0})),
		"shm-empty":    fuzzCalls(fuzzCall("vgpuShmHtoDAsync", []uint64{fuzzBufB, 0, 0, 0})),
		"runs-ok":      fuzzCalls(fuzzCall("vgpuRunsHtoDAsync", []uint64{fuzzBufB, uint64(len(zeroRuns)), 64 << 10, 0}, zeroRuns)),
		"runs-bad":     fuzzCalls(fuzzCall("vgpuRunsHtoDAsync", []uint64{fuzzBufB, 3, 64 << 10, 0}, []byte{0xff, 0xff, 0xff})),
		"runs-past":    fuzzCalls(fuzzCall("vgpuRunsHtoDAsync", []uint64{fuzzBufA, uint64(len(zeroRuns)), 64 << 10, 0}, zeroRuns)),
		"runs-huge":    fuzzCalls(fuzzCall("vgpuRunsHtoDAsync", []uint64{fuzzBufB, uint64(len(zeroRuns)), 1 << 40, 0}, zeroRuns)),
		"blocks-ok":    fuzzCalls(fuzzCall("vgpuBlocksHtoDAsync", []uint64{fuzzBufB, uint64(len(fuzzBlocks)), 64 << 10, 4, 0, 0}, fuzzBlocks)),
		"blocks-slot":  fuzzCalls(fuzzCall("vgpuBlocksHtoDAsync", []uint64{fuzzBufB, 3, 8192, 4, 0, 0}, []byte{0x80, 0x80, 0x01})),
		"blocks-step":  fuzzCalls(fuzzCall("vgpuBlocksHtoDAsync", []uint64{fuzzBufB, uint64(len(fuzzBlocks)), 64 << 10, 4, 7, 0}, fuzzBlocks)),
		"blocks-slots": fuzzCalls(fuzzCall("vgpuBlocksHtoDAsync", []uint64{fuzzBufB, uint64(len(fuzzBlocks)), 64 << 10, 1 << 40, 0, 0}, fuzzBlocks)),
		"pointer-attr": fuzzCalls(fuzzCall("vgpuPointerGetAttributes", []uint64{2, fuzzBufA}, make([]byte, 8))),
		"launch":       fuzzCalls(fuzzCall("vgpuLaunchKernel", []uint64{fuzzHandle(api.HFunction), 1, 1, 1, 1, 1, 1, 0, 0, 0, 12, 0}, make([]byte, 12), nil)),
		"alloc-copy-free": fuzzCalls(fuzzCall("cuMemAlloc_v2", []uint64{0, 100}),
			fuzzCall("cuMemcpyHtoD_v2", []uint64{0x7f0000200000, 100}, make([]byte, 100)),
			fuzzCall("cuMemFree_v2", []uint64{0x7f0000200000}),
			fuzzCall("cuMemcpyHtoD_v2", []uint64{0x7f0000200000, 100}, make([]byte, 100))),
		"device-name": fuzzCalls(fuzzCall("cuDeviceGetName", []uint64{0xffffffff, 0})),
		// a minted descriptor set, used, destroyed, then named again
		"lt-minted": fuzzCalls(fuzzCall("cublasLtMatmulDescCreate", []uint64{api.MintedHandle(1), 68, 0}),
			fuzzCall("cublasLtMatmulDescSetAttribute", []uint64{api.MintedHandle(1), 1, 4}, make([]byte, 4)),
			fuzzCall("cublasLtMatmulAlgoGetHeuristic", []uint64{fuzzHandle(api.HCublas), api.MintedHandle(1), fuzzHandle(api.HLtLayout),
				fuzzHandle(api.HLtLayout), fuzzHandle(api.HLtLayout), fuzzHandle(api.HLtLayout), fuzzHandle(api.HLtPref), 1}),
			fuzzCall("cublasLtMatmulDescDestroy", []uint64{api.MintedHandle(1)}),
			fuzzCall("cublasLtMatmulDescSetAttribute", []uint64{api.MintedHandle(1), 1, 4}, make([]byte, 4))),
	}
}

// TestFuzzSeedFiles: testdata/fuzz/FuzzSessionExec holds every seed of fuzzSeeds under its name,
// so `go test -run FuzzSessionExec/<name>` runs one. VGPU_WRITE_SEEDS=1 writes them.
func TestFuzzSeedFiles(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzSessionExec")
	for name, seed := range fuzzSeeds() {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seed)
		path := filepath.Join(dir, name)
		if settings.TestWriteSeeds.Get() {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (VGPU_WRITE_SEEDS=1 go test -run TestFuzzSeedFiles writes it): %v", path, err)
		}
	}
}

// FuzzSessionExec decodes a run of calls from the input and serves them on a fresh session
// (fuzzSession) whose backend panics on any argument the real backend could not take safely.
// The seeds (fuzzSeeds, and any crasher found) live in testdata/fuzz/FuzzSessionExec; `go test`
// runs them.
func FuzzSessionExec(f *testing.F) {
	// and a plausible call of every row the worker serves, for the fuzzer to start from
	for id := range api.Table {
		if fn := &api.Table[id]; fn.Serve == api.Remote || fn.Serve == api.Async {
			f.Add(fuzzCalls(rowSeed(api.ID(id))))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := fuzzSession(t)
		for k := 0; k < 16 && len(in) > 0; k++ {
			n, w := binary.Uvarint(in)
			if w <= 0 || n > uint64(len(in)-w) {
				return
			}
			c, err := remoting.DecodeCall(in[w : w+int(n)])
			in = in[w+int(n):]
			if err != nil {
				return
			}
			s.scratchUsed = false
			s.inArena = s.inArena[:0]
			if _, _, _, err := s.exec(&c); err != nil {
				return // a protocol violation ends the session
			}
		}
	})
}
