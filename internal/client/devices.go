package client

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// The device cache: at cuInit the client fetches, once, everything discovery asks about each
// device (name, UUID, memory, PCI bus id, every attribute), applies CUDA_VISIBLE_DEVICES, and
// answers those queries locally from then on, as docs/ARCHITECTURE.md, decision 9, requires.

// maxAttr bounds the attribute ids fetched (CU_DEVICE_ATTRIBUTE_MAX is 148 in CUDA 13.0; a
// newer driver's extra ids still fit).
const maxAttr = 192

const (
	cuErrInvalidValue   = 1
	cuErrNotInitialized = 3
	cuErrNoDevice       = 100
	cuErrInvalidDevice  = 101
)

type device struct {
	srv      *remoteServer // the server the device is on
	ordinal  int32         // the server's CUdevice
	name     string
	uuid     [16]byte
	totalMem uint64
	pciBusID string
	attrVal  [maxAttr]int32
	attrRes  [maxAttr]int32
}

var devices struct {
	mu     sync.Mutex
	done   bool
	result int32 // cuInit's result, repeated to every later cuInit
	list   []*device
}

// devicesReady returns the visible devices once cuInit succeeded; otherwise the CUresult.
func devicesReady() ([]*device, int32) {
	devices.mu.Lock()
	defer devices.mu.Unlock()
	if !devices.done {
		return nil, cuErrNotInitialized
	}
	if devices.result != 0 {
		return nil, devices.result
	}
	return devices.list, 0
}

// dev returns client device ordinal d, or CUDA_ERROR_INVALID_DEVICE.
func dev(d int32) (*device, int32) {
	list, r := devicesReady()
	if r != 0 {
		return nil, r
	}
	if d < 0 || int(d) >= len(list) {
		return nil, cuErrInvalidDevice
	}
	return list[d], 0
}

// cuInit initialises the driver on the server once, fetches the device cache and applies
// CUDA_VISIBLE_DEVICES. Every later cuInit returns the first one's result, as the driver does.
func cuInit(c *call) int64 {
	arg := cuInitArgs(c.a)
	if arg.Flags() != 0 {
		return cuErrInvalidValue
	}
	devices.mu.Lock()
	defer devices.mu.Unlock()
	if devices.done {
		return int64(devices.result)
	}
	var all []*device
	if multiServers() {
		var r int64
		if all, r = initServers(c); all == nil {
			return r
		}
	} else {
		srv := serverList()[0]
		r := remoteOn(srv, c.lib, api.IDcuInit, 0)
		if r == int64(c.unreachable()) {
			return r // not cached: the server may come up later
		}
		devices.done = true
		if r != 0 {
			devices.result = int32(r)
			return r
		}
		var err int32
		if all, err = fetchDevices(srv, c.lib); err != 0 {
			devices.result = err
			return int64(err)
		}
	}
	devices.list = visible(all, os.Getenv("CUDA_VISIBLE_DEVICES"))
	if len(devices.list) == 0 {
		vlog.Printf("cuInit: no visible device (server has %d, CUDA_VISIBLE_DEVICES=%q)", len(all), os.Getenv("CUDA_VISIBLE_DEVICES"))
		devices.result = cuErrNoDevice
		return cuErrNoDevice
	}
	return 0
}

// initServers is cuInit with several servers: each is initialised and asked for its devices,
// which are listed in the servers' order. A server that cannot be reached, or whose cuInit or
// device queries fail, is left out with one log line; the devices of the others are the list.
// Without any device, the first failure is cuInit's result (not cached while no server answered:
// they may come up later). devices.mu is held; devices.done is set when the result is final.
func initServers(c *call) ([]*device, int64) {
	var all []*device
	first, reached := int64(0), false
	for _, srv := range serverList() {
		r := int64(c.unreachable())
		if _, err := srv.session(); err != nil {
			vlog.Printf("cuInit: %s cannot be reached; its devices are left out of this process's list", srv)
		} else if r = remoteOn(srv, c.lib, api.IDcuInit, 0); r == int64(c.unreachable()) && srv.openSession().lost() {
			vlog.Printf("cuInit: %s was lost; its devices are left out of this process's list", srv)
		} else {
			reached = true
			if r == 0 {
				d, err := fetchDevices(srv, c.lib)
				if err == 0 {
					all = append(all, d...)
					continue
				}
				r = int64(err)
			}
			vlog.Printf("cuInit: %s answered %d; its devices are left out of this process's list", srv, r)
		}
		if first == 0 {
			first = r
		}
	}
	if len(all) > 0 {
		devices.done = true
		return all, 0
	}
	if reached {
		devices.done = true
		devices.result = int32(first)
	}
	return nil, first
}

// pciDomainStep: the PCI domain of server k > 0's devices is shifted by k times this, so that two
// hosts' GPUs at the same bus location stay apart in the one list (CUDA and NVML alike).
const pciDomainStep = 0x100

// shiftPCIDomain adds k*pciDomainStep to the domain of a PCI bus id ("dddd:bb:dd.f" or
// "dddddddd:bb:dd.f"), keeping its width.
func shiftPCIDomain(id string, k int) string {
	dom, rest, ok := strings.Cut(id, ":")
	v, err := strconv.ParseUint(dom, 16, 32)
	if !ok || err != nil || k == 0 {
		return id
	}
	return fmt.Sprintf("%0*x:%s", len(dom), v+uint64(k*pciDomainStep), rest)
}

// pciAttrDomain is CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID.
const pciAttrDomain = 50

func fetchDevices(srv *remoteServer, lib api.Lib) ([]*device, int32) {
	n := heapNew[int32]()
	if r := remoteOn(srv, lib, api.IDcuDeviceGetCount, ptrOf(n)); r != 0 {
		return nil, int32(r)
	}
	var all []*device
	for i := int32(0); i < *n; i++ {
		d := &device{srv: srv}
		ord := heapNew[int32]()
		if r := remoteOn(srv, lib, api.IDcuDeviceGet, ptrOf(ord), uint64(i)); r != 0 {
			return nil, int32(r)
		}
		d.ordinal = *ord
		name := heapBytes(256)
		uuid := heapNew[[16]byte]()
		mem := heapNew[uint64]()
		bus := heapBytes(64)
		attrs := heapBytes(8 * maxAttr)
		for _, step := range []struct {
			id   api.ID
			args []uint64
		}{
			{api.IDcuDeviceGetName, []uint64{ptrOf(&name[0]), uint64(len(name)), uint64(*ord)}},
			{api.IDcuDeviceGetUuid_v2, []uint64{ptrOf(uuid), uint64(*ord)}},
			{api.IDcuDeviceTotalMem_v2, []uint64{ptrOf(mem), uint64(*ord)}},
			{api.IDcuDeviceGetPCIBusId, []uint64{ptrOf(&bus[0]), uint64(len(bus)), uint64(*ord)}},
			{api.IDvgpuDeviceGetAttributes, []uint64{ptrOf(&attrs[0]), uint64(len(attrs)), uint64(*ord)}},
		} {
			if r := remoteOn(srv, lib, step.id, step.args...); r != 0 {
				vlog.Errorf("cuInit: %s for device %d failed with %d", api.Table[step.id].Name, i, r)
				return nil, int32(r)
			}
		}
		d.name = stringUntilNUL(name)
		d.uuid = *uuid
		d.totalMem = *mem
		d.pciBusID = stringUntilNUL(bus)
		// Attribute 0 does not exist; ids 1..maxAttr-1 are fetched into slots 1..maxAttr-1
		// (slot k of the batch holds attribute k+1).
		for k := 0; k+1 < maxAttr; k++ {
			d.attrVal[k+1] = int32(binary.LittleEndian.Uint32(attrs[8*k:]))
			d.attrRes[k+1] = int32(binary.LittleEndian.Uint32(attrs[8*k+4:]))
		}
		d.attrRes[0] = cuErrInvalidValue
		if srv.idx > 0 {
			d.pciBusID = shiftPCIDomain(d.pciBusID, srv.idx)
			d.attrVal[pciAttrDomain] += int32(srv.idx * pciDomainStep)
		}
		all = append(all, d)
	}
	return all, 0
}

// stringUntilNUL is the C string in b: its bytes before the first NUL (all of b if none).
func stringUntilNUL(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// visible applies CUDA_VISIBLE_DEVICES as the driver does: a comma-separated list of ordinals
// or UUIDs (GPU-xxxxxxxx-..., a unique prefix suffices); parsing stops at the first entry that
// names no device, and a device listed twice ends the list too.
func visible(all []*device, env string) []*device {
	if env == "" {
		if _, set := os.LookupEnv("CUDA_VISIBLE_DEVICES"); !set {
			return all
		}
	}
	var out []*device
	used := map[*device]bool{}
	for _, e := range strings.Split(env, ",") {
		e = strings.TrimSpace(e)
		var d *device
		if n, err := strconv.Atoi(e); err == nil {
			if n >= 0 && n < len(all) {
				d = all[n]
			}
		} else if strings.HasPrefix(e, "GPU-") && len(e) > 4 {
			for _, cand := range all {
				if strings.HasPrefix(formatUUID(cand.uuid), e) {
					if d != nil {
						d = nil // ambiguous prefix
						break
					}
					d = cand
				}
			}
		}
		if d == nil || used[d] {
			break
		}
		used[d] = true
		out = append(out, d)
	}
	return out
}

func formatUUID(u [16]byte) string {
	s := fmt.Sprintf("%x", u[:])
	return "GPU-" + s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// serverOrdinal maps a client CUdevice to the server's.
func serverOrdinal(d uint64) (uint64, bool) {
	list, r := devicesReady()
	if r != 0 {
		return d, true // let the server answer (not initialised)
	}
	i := int32(uint32(d))
	if i < 0 || int(i) >= len(list) {
		return 0, false
	}
	return uint64(uint32(list[i].ordinal)), true
}

// clientOrdinal maps server srv's CUdevice back to the client's numbering (-1 if not visible);
// srv nil: the first server's.
func clientOrdinal(srv *remoteServer, d int32) int32 {
	list, _ := devicesReady()
	if srv == nil {
		srv = serverList()[0]
	}
	for i, x := range list {
		if x.ordinal == d && x.srv == srv {
			return int32(i)
		}
	}
	return -1
}

// ---- the driver's device queries, answered from the cache ----

func cuDeviceGetCount(c *call) int64 {
	arg := cuDeviceGetCountArgs(c.a)
	if arg.count() == 0 {
		return cuErrInvalidValue
	}
	list, r := devicesReady()
	if r == cuErrNoDevice {
		r = 0 // count 0 is a valid answer
	}
	if r != 0 {
		return int64(r)
	}
	store(arg.count(), int32(len(list)))
	return 0
}

func cuDeviceGet(c *call) int64 {
	arg := cuDeviceGetArgs(c.a)
	if arg.device() == 0 {
		return cuErrInvalidValue
	}
	if _, r := dev(int32(uint32(arg.ordinal()))); r != 0 {
		return int64(r)
	}
	store(arg.device(), int32(uint32(arg.ordinal())))
	return 0
}

// putCString writes s into the caller's buffer of n bytes, truncated, NUL-terminated.
func putCString(p uint64, n int, s string) {
	b := hostBytes(p, n)
	k := copy(b[:n-1], s)
	b[k] = 0
}

// deviceString answers a (char *buf, int len, CUdevice dev) query from the cache.
func deviceString(c *call, field func(*device) string) int64 {
	n := int32(uint32(c.a[1]))
	if c.a[0] == 0 || n <= 0 {
		return cuErrInvalidValue
	}
	d, r := dev(int32(uint32(c.a[2])))
	if r != 0 {
		return int64(r)
	}
	putCString(c.a[0], int(n), field(d))
	return 0
}

func cuDeviceGetName(c *call) int64 { return deviceString(c, func(d *device) string { return d.name }) }

func uuidOf(c *call) int64 {
	arg := cuDeviceGetUuid_v2Args(c.a) // cuDeviceGetUuid's parameters are the same
	if arg.uuid() == 0 {
		return cuErrInvalidValue
	}
	d, r := dev(int32(uint32(arg.dev())))
	if r != 0 {
		return int64(r)
	}
	store(arg.uuid(), d.uuid)
	return 0
}

func cuDeviceGetUuid(c *call) int64    { return uuidOf(c) }
func cuDeviceGetUuid_v2(c *call) int64 { return uuidOf(c) }

func cuDeviceTotalMem_v2(c *call) int64 {
	arg := cuDeviceTotalMem_v2Args(c.a)
	if arg.bytes() == 0 {
		return cuErrInvalidValue
	}
	d, r := dev(int32(uint32(arg.dev())))
	if r != 0 {
		return int64(r)
	}
	store(arg.bytes(), d.totalMem)
	return 0
}

// attribute returns attribute a of device d as the driver answered it.
func attribute(d *device, a int32) (int32, int32) {
	if a <= 0 || a >= maxAttr {
		return 0, cuErrInvalidValue
	}
	return d.attrVal[a], d.attrRes[a]
}

func cuDeviceGetAttribute(c *call) int64 {
	arg := cuDeviceGetAttributeArgs(c.a)
	if arg.pi() == 0 {
		return cuErrInvalidValue
	}
	d, r := dev(int32(uint32(arg.dev())))
	if r != 0 {
		return int64(r)
	}
	v, res := attribute(d, int32(uint32(arg.attrib())))
	if res != 0 {
		return int64(res)
	}
	store(arg.pi(), v)
	return 0
}

func cuDeviceGetPCIBusId(c *call) int64 {
	return deviceString(c, func(d *device) string { return d.pciBusID })
}

// deviceByBusID finds a visible device by PCI bus id ("domain:bus:device.function", with or
// without the domain, any case).
func deviceByBusID(id string) (int32, int32) {
	list, r := devicesReady()
	if r != 0 {
		return 0, r
	}
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		if strings.Count(s, ":") == 1 {
			s = "0000:" + s
		}
		parts := strings.SplitN(s, ":", 2)
		if len(parts) == 2 {
			dom, _ := strconv.ParseUint(parts[0], 16, 32)
			s = fmt.Sprintf("%08x:%s", dom, parts[1])
		}
		return s
	}
	want := norm(id)
	for i, d := range list {
		if norm(d.pciBusID) == want {
			return int32(i), 0
		}
	}
	return 0, cuErrInvalidDevice
}

func cuDeviceGetByPCIBusId(c *call) int64 {
	arg := cuDeviceGetByPCIBusIdArgs(c.a)
	if arg.dev() == 0 || arg.pciBusId() == 0 {
		return cuErrInvalidValue
	}
	i, r := deviceByBusID(string(cStringBytes(arg.pciBusId(), 64)))
	if r != 0 {
		return int64(r)
	}
	store(arg.dev(), i)
	return 0
}

// cuMemGetAllocationGranularity translates the device in prop->location (a CUmemLocation of
// type CU_MEM_LOCATION_TYPE_DEVICE) before the server sees it.
func cuMemGetAllocationGranularity(c *call) int64 {
	arg := cuMemGetAllocationGranularityArgs(c.a)
	if arg.granularity() == 0 || arg.prop() == 0 {
		return cuErrInvalidValue
	}
	return withProp(c, 1)
}

// withProp serves a row whose argument k points to a CUmemAllocationProp: a copy of it, its
// device translated (propDevice), goes to that device's server in the caller's place.
func withProp(c *call, k int) int64 {
	prop := heapBytes(32)
	copy(prop, hostBytes(c.a[k], 32))
	srv, r := propDevice(prop)
	if r != 0 {
		return r
	}
	a := append([]uint64(nil), c.a...)
	a[k] = ptrOf(&prop[0])
	r = remote(&call{id: c.id, f: c.f, lib: c.lib, a: a, srv: srv})
	runtime.KeepAlive(prop) // the call reads it through its address only
	return r
}

// propDevice translates the device of a CUmemAllocationProp (a CUmemLocation of type
// CU_MEM_LOCATION_TYPE_DEVICE at offset 8) to the server's ordinal, in place, and says which
// server the device is on (the calling thread's current one for another location).
func propDevice(prop []byte) (*remoteServer, int64) {
	const locTypeDevice = 1
	if binary.LittleEndian.Uint32(prop[8:]) != locTypeDevice {
		if multiServers() {
			return currentServer(), 0
		}
		return serverList()[0], 0
	}
	d := int32(binary.LittleEndian.Uint32(prop[12:]))
	o, ok := serverOrdinal(uint64(uint32(d)))
	if !ok {
		return nil, cuErrInvalidDevice
	}
	binary.LittleEndian.PutUint32(prop[12:], uint32(o))
	if x, r := dev(d); r == 0 {
		return x.srv, 0
	}
	return serverList()[0], 0
}

// cuMemCreate: the device in prop is translated and names the server, as for the granularity.
func cuMemCreate(c *call) int64 {
	arg := cuMemCreateArgs(c.a)
	if arg.handle() == 0 || arg.prop() == 0 {
		return cuErrInvalidValue
	}
	return withProp(c, 2)
}
