package client

import (
	"runtime"
	"strconv"
	"strings"

	"github.com/vgpu/vgpu/internal/api"
)

// NVML with several servers (servers.go): their devices are one list, the first server's first,
// as CUDA shows them. NVML has no contexts: a call with a device handle goes to the handle's
// server; system queries go to the first server. The rows below enumerate devices and are served
// here; with one server each is the plain remote call.

const nvmlErrorInvalidArgument = 2
const nvmlErrorNotFound = 6

// nvmlCountOf is server srv's NVML device count, asked once; 0 while the server cannot answer.
func nvmlCountOf(srv *remoteServer) int {
	nvmlMu.Lock()
	n := srv.nvmlCount
	nvmlMu.Unlock()
	if n >= 0 {
		return n
	}
	v := heapNew[uint32]()
	if r := remoteOn(srv, api.LibNVML, api.IDnvmlDeviceGetCount_v2, ptrOf(v)); r != 0 {
		return 0
	}
	nvmlMu.Lock()
	srv.nvmlCount = int(*v)
	nvmlMu.Unlock()
	return int(*v)
}

// nvmlMulti serves the rows that enumerate NVML devices (table_nvml.go).
func nvmlMulti(c *call) int64 {
	if !multiServers() {
		return remote(c)
	}
	if !nvmlInitialized() {
		return nvmlErrorUninitialized
	}
	list := serverList()
	switch c.id {
	case api.IDnvmlDeviceGetCount_v2, api.IDnvmlDeviceGetCount:
		if c.a[0] == 0 {
			return nvmlErrorInvalidArgument
		}
		n := 0
		for _, s := range list {
			n += nvmlCountOf(s)
		}
		store(c.a[0], uint32(n))
		return 0
	case api.IDnvmlDeviceGetHandleByIndex_v2, api.IDnvmlDeviceGetHandleByIndex:
		i := int(uint32(c.a[0]))
		for _, s := range list {
			n := nvmlCountOf(s)
			if i < n {
				return remoteOn(s, c.lib, c.id, uint64(i), c.a[1])
			}
			i -= n
		}
		return nvmlErrorInvalidArgument
	case api.IDnvmlDeviceGetHandleByUUID, api.IDnvmlDeviceGetHandleBySerial:
		// each server in turn; the first that knows the device answers
		first := int64(0)
		for _, s := range list {
			r := remoteOn(s, c.lib, c.id, c.a[0], c.a[1])
			if r == 0 {
				return 0
			}
			if r != nvmlErrorNotFound && first == 0 {
				first = r
			}
		}
		if first != 0 {
			return first
		}
		return nvmlErrorNotFound
	case api.IDnvmlDeviceGetHandleByPciBusId_v2:
		// server k > 0's devices have their PCI domain shifted by k*pciDomainStep
		if c.a[0] == 0 {
			return nvmlErrorInvalidArgument
		}
		id := string(cStringBytes(c.a[0], 64))
		k := pciServer(id, len(list))
		local := append([]byte(shiftPCIDomain(id, -k)), 0)
		r := remoteOn(list[k], c.lib, c.id, ptrOf(&local[0]), c.a[1])
		runtime.KeepAlive(local) // read through its address only
		return r
	case api.IDnvmlDeviceGetIndex:
		r := remote(c)
		if r == 0 && c.srv != nil && c.a[1] != 0 {
			off := 0
			for _, s := range list[:c.srv.idx] {
				off += nvmlCountOf(s)
			}
			store(c.a[1], *(*uint32)(ptrAt(c.a[1]))+uint32(off))
		}
		return r
	case api.IDnvmlDeviceGetPciInfo, api.IDnvmlDeviceGetPciInfo_v2, api.IDnvmlDeviceGetPciInfo_v3:
		r := remote(c)
		if r == 0 && c.srv != nil && c.srv.idx > 0 && c.a[1] != 0 {
			n, _ := api.SpecNumber(c.f.Params[1].Size)
			shiftPCIInfo(hostBytes(c.a[1], int(n)), c.id == api.IDnvmlDeviceGetPciInfo, c.srv.idx)
		}
		return r
	}
	return remote(c)
}

// pciServer is the server whose devices a PCI bus id names: k for a domain shifted by
// k*pciDomainStep (1 <= k < n), else the first.
func pciServer(id string, n int) int {
	dom, _, ok := strings.Cut(strings.TrimSpace(id), ":")
	v, err := strconv.ParseUint(dom, 16, 32)
	if !ok || err != nil || strings.Count(id, ":") < 2 {
		return 0
	}
	if k := int(v / pciDomainStep); k >= 1 && k < n {
		return k
	}
	return 0
}

// shiftPCIInfo shifts the domain of an nvmlPciInfo_t by server k's step: the domain field
// (offset 16) and the bus id strings (the first layout: busId[16] at 0; _v2/_v3: busIdLegacy[16]
// at 0 and busId[32] at 36).
func shiftPCIInfo(b []byte, v1 bool, k int) {
	put := func(off, n int) {
		s := shiftPCIDomain(stringUntilNUL(b[off:off+n]), k)
		if len(s) < n {
			clear(b[off : off+n])
			copy(b[off:], s)
		}
	}
	put(0, 16)
	if !v1 && len(b) >= 68 {
		put(36, 32)
	}
	le := b[16:20]
	v := uint32(le[0]) | uint32(le[1])<<8 | uint32(le[2])<<16 | uint32(le[3])<<24
	v += uint32(k * pciDomainStep)
	le[0], le[1], le[2], le[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
