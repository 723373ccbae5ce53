package server

import (
	"os"
	"strconv"
	"strings"

	"github.com/vgpu/vgpu/internal/api"
)

// The Devices policy: a session sees only the host GPUs its policy names (NVML indexes, as
// nvidia-smi numbers them, or UUIDs), in the policy's order. The worker resolves the names to
// UUIDs through NVML and hands the list to its driver before cuInit (CUDA_VISIBLE_DEVICES for
// the real one, SetVisibleDevices for the simulated one); NVML, which ignores that variable, is
// filtered by the session (policyBefore/policyAfter): its count, its handles by index, UUID,
// PCI bus id or serial, and its indexes are those of the policy's list. Handles of other GPUs are
// never given out, so no other NVML call can name one.

// visibleDevicesSetter is a backend whose driver can be narrowed to some GPUs (by UUID, in order).
type visibleDevicesSetter interface {
	SetVisibleDevices(uuids []string)
}

// SetVisibleDevices narrows the host driver to uuids, in that order: CUDA_VISIBLE_DEVICES for
// this process, read by the driver at cuInit (the worker's is still to come). Entries may also
// be indexes (when NVML could not resolve them): CUDA_DEVICE_ORDER=PCI_BUS_ID numbers them as
// nvidia-smi does.
func (r *Real) SetVisibleDevices(uuids []string) {
	os.Setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
	os.Setenv("CUDA_VISIBLE_DEVICES", strings.Join(uuids, ","))
}

type nvmlHost struct {
	handle uint64
	uuid   string
}

var (
	nvmlCountID          = api.IDnvmlDeviceGetCount_v2
	nvmlByIndexID        = api.IDnvmlDeviceGetHandleByIndex_v2
	nvmlGetUUIDID        = api.IDnvmlDeviceGetUUID
	nvmlUUIDBufferLength = 96 // NVML_DEVICE_UUID_V2_BUFFER_SIZE
)

// nvmlHosts lists the host's GPUs as NVML numbers them (nil, code when NVML cannot).
func (s *Session) nvmlHosts() ([]nvmlHost, int32) {
	a, r := s.invokeRow(nvmlCountID, 0)
	if r != 0 {
		return nil, r
	}
	n := int(le64(a.Out[0][:4]))
	var hosts []nvmlHost
	for i := 0; i < n; i++ {
		b, r := s.invokeRow(nvmlByIndexID, uint64(i), 0)
		if r != 0 {
			return nil, r
		}
		h := le64(b.Out[1])
		u, r := s.nvmlUUID(h)
		if r != 0 {
			return nil, r
		}
		hosts = append(hosts, nvmlHost{handle: h, uuid: u})
	}
	return hosts, 0
}

// nvmlUUID is NVML's UUID of device handle h.
func (s *Session) nvmlUUID(h uint64) (string, int32) {
	f := &api.Table[nvmlGetUUIDID]
	a := &Args{Vals: []uint64{h, 0, uint64(nvmlUUIDBufferLength)}, In: make([][]byte, 3), Out: [][]byte{nil, make([]byte, nvmlUUIDBufferLength), nil}}
	if r := s.be.Invoke(nvmlGetUUIDID, f, a); r != 0 {
		return "", r
	}
	return stringUntilNUL(a.Out[1]), 0
}

// resolveDevices turns the policy's device names into host GPUs (unknown names and repeats are
// left out, with a log line: a session never sees more than its policy names) and narrows the
// backend's driver to them.
func (s *Session) resolveDevices(entries []string) {
	ps := s.pol
	ps.devices = true
	ps.nvHandles = map[uint64]int{}
	hosts, r := s.nvmlHosts()
	setter, canSet := s.be.(visibleDevicesSetter)
	if r != 0 {
		s.logf("devices %v: NVML cannot list the host's GPUs (error %d): the driver gets them as given, and NVML shows none", entries, r)
		if canSet {
			setter.SetVisibleDevices(entries)
		}
		return
	}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		k := -1
		if n, err := strconv.Atoi(e); err == nil {
			if n >= 0 && n < len(hosts) {
				k = n
			}
		} else if strings.HasPrefix(e, "GPU-") || strings.HasPrefix(e, "MIG-") {
			for i, h := range hosts {
				if strings.HasPrefix(strings.ToLower(h.uuid), strings.ToLower(e)) {
					if k >= 0 {
						k = -2 // ambiguous
						break
					}
					k = i
				}
			}
		}
		if k < 0 {
			s.logf("policy device %q names no single GPU of this host's %d: left out", e, len(hosts))
			continue
		}
		if _, dup := ps.nvHandles[hosts[k].handle]; dup {
			continue
		}
		ps.nvHandles[hosts[k].handle] = len(ps.nvIndex)
		ps.nvIndex = append(ps.nvIndex, uint32(k))
		ps.nvUUID = append(ps.nvUUID, hosts[k].uuid)
	}
	if canSet {
		setter.SetVisibleDevices(ps.nvUUID)
	}
	s.logf("policy: identity %q sees %d of the host's %d GPUs %v", s.policy.Identity, len(ps.nvUUID), len(hosts), ps.nvUUID)
}

// nvmlCudaDevice is the session's CUdevice of NVML device h (by UUID), or -1 when the driver
// has none (not initialised yet: nothing is charged then).
func (s *Session) nvmlCudaDevice(h uint64) int32 {
	ps := s.pol
	if d, ok := ps.nvCuda[h]; ok {
		return d
	}
	u, r := s.nvmlUUID(h)
	if r != 0 {
		return -1
	}
	a, r := s.invokeRow(deviceGetCountID, 0)
	if r != 0 {
		return -1
	}
	f := &api.Table[deviceGetUUIDID]
	for d := uint64(0); d < uint64(uint32(le64(a.Out[0][:4]))); d++ {
		b := &Args{Vals: []uint64{0, d}, In: make([][]byte, 2), Out: [][]byte{make([]byte, 16), nil}}
		if s.be.Invoke(deviceGetUUIDID, f, b) != 0 {
			continue
		}
		var uu [16]byte
		copy(uu[:], b.Out[0])
		if strings.EqualFold(FormatUUID(uu), u) {
			ps.nvCuda[h] = int32(d)
			return int32(d)
		}
	}
	return -1
}
