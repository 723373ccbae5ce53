package server

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/vgpu/vgpu/internal/api"
)

// smiTableID is the id of nvidia-smi's private NVML table, 6c3efec4-8fc9-4e6c-a327-ee696e12f7c4,
// as its bytes lie in memory (shims/nvml/exporttable.c gives the client's copy).
var smiTableID = [16]byte{0xc4, 0xfe, 0x3e, 0x6c, 0xc9, 0x8f, 0x6c, 0x4e, 0xa3, 0x27, 0xee, 0x69, 0x6e, 0x12, 0xf7, 0xc4}

// smiScratchSize: the words after (device, value) point to this many zeroed bytes, so that a
// slot reading or writing a further argument nobody has described touches memory of its own.
const smiScratchSize = 4096

// NVMLPrivateReading calls slot of the host's own private table for nvidia-smi as (device,
// value, scratch, scratch), or (device, value, len(value), scratch) for a slot whose third
// argument is the value's length, and returns its result: the reading is the host's.
// The caller (Session.internal) admits only api.NVMLPrivateSlots with their value sizes.
func (r *Real) NVMLPrivateReading(slot uint32, device uint64, value []byte) int32 {
	r.nvmlOnce.Do(r.initNVML)
	if r.nvmlErr != 0 {
		return r.nvmlErr
	}
	r.smiOnce.Do(r.openSMITable)
	if r.smiErr != 0 {
		return r.smiErr
	}
	// word 0 is the table's size in bytes; slot i is word i
	if size := *(*uintptr)(unsafe.Pointer(r.smiTable)); uintptr(slot+1)*8 > size {
		logOnce(fmt.Sprint("smi-slot-absent:", slot), fmt.Sprintf("the host's private NVML table has no slot %d (%d bytes)", slot, size), "slot", slot)
		return api.LibNVML.Info().NotSupported
	}
	fn := *(*uintptr)(unsafe.Pointer(r.smiTable + uintptr(slot)*8))
	if fn == 0 {
		return api.LibNVML.Info().NotSupported
	}
	clear(value)
	scratch := make([]byte, smiScratchSize)
	var argv [maxCallArgs]uintptr
	argv[0] = uintptr(device)
	argv[1] = bufAddr(value)
	argv[2] = bufAddr(scratch)
	argv[3] = bufAddr(scratch[smiScratchSize/2:])
	if api.NVMLPrivateSlots[slot].Length {
		argv[2] = uintptr(len(value)) // (device, char *value, unsigned int length, …)
	}
	r1 := ccall(fn, &argv)
	runtime.KeepAlive(value)
	runtime.KeepAlive(scratch)
	return int32(uint32(r1))
}

// openSMITable asks the host's NVML for nvidia-smi's private table, as nvidia-smi does.
func (r *Real) openSMITable() {
	nvml := api.LibNVML.Info()
	get, err := purego.Dlsym(r.libs[1], api.Table[api.IDnvmlInternalGetExportTable].Name)
	if err != nil {
		logOnce("smi-table", fmt.Sprintf("the host's NVML has no nvmlInternalGetExportTable: %v", err))
		r.smiErr = nvml.NotSupported
		return
	}
	var table uintptr
	id := smiTableID
	var argv [maxCallArgs]uintptr
	argv[0] = uintptr(unsafe.Pointer(&table))
	argv[1] = uintptr(unsafe.Pointer(&id))
	rc := int32(uint32(ccall(get, &argv)))
	runtime.KeepAlive(&table)
	runtime.KeepAlive(&id)
	switch {
	case rc != 0:
		logOnce("smi-table", fmt.Sprintf("the host's NVML refused nvidia-smi's private table (%d)", rc), "code", rc)
		r.smiErr = rc
	case table == 0:
		r.smiErr = nvml.NotSupported
	default:
		r.smiTable = table
	}
}
