package client

import (
	"encoding/binary"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
)

// ptrRecorder answers cuPointerGetAttributes as a driver would: per attribute, how many bytes
// it wrote, then the bytes (a 4-byte memory type, a 4-byte ordinal, an 8-byte address, a
// 1-byte boolean).
type ptrRecorder struct{ recorder }

func (p *ptrRecorder) PointerAttributes(attrs []byte, ptr uint64, out []byte) int32 {
	le := binary.LittleEndian
	for i := 0; i < len(attrs)/4; i++ {
		slot := out[72*i:]
		switch le.Uint32(attrs[4*i:]) {
		case 2: // MEMORY_TYPE: device
			le.PutUint64(slot, 4)
			le.PutUint32(slot[8:], 2)
		case 9: // DEVICE_ORDINAL: the server's 0
			le.PutUint64(slot, 4)
			le.PutUint32(slot[8:], 0)
		case 3: // DEVICE_POINTER
			le.PutUint64(slot, 8)
			le.PutUint64(slot[8:], ptr)
		case 8: // IS_MANAGED: a one-byte boolean
			le.PutUint64(slot, 1)
			slot[8] = 0
		}
	}
	return 0
}

// cuPointerGetAttributes writes exactly the bytes the server's driver wrote for each attribute
// into the caller's variables, never past them, and skips NULL ones.
func TestPointerGetAttributes(t *testing.T) {
	connect(t, &ptrRecorder{recorder{Sim: server.NewSim()}})
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	attrs := heapBytes(16)
	for i, a := range []uint32{2, 9, 3, 8} {
		binary.LittleEndian.PutUint32(attrs[4*i:], a)
	}
	vars := heapBytes(64)
	for i := range vars {
		vars[i] = 0xee
	}
	data := heapBytes(32)
	binary.LittleEndian.PutUint64(data[0:], ptrOf(&vars[0]))   // memory type
	binary.LittleEndian.PutUint64(data[8:], ptrOf(&vars[16]))  // ordinal
	binary.LittleEndian.PutUint64(data[16:], 0)                // device pointer: not wanted
	binary.LittleEndian.PutUint64(data[24:], ptrOf(&vars[40])) // is managed
	if r := dispatchByName(api.LibCuda, "cuPointerGetAttributes", 4, ptrOf(&attrs[0]), ptrOf(&data[0]), 0x7000); r != 0 {
		t.Fatalf("cuPointerGetAttributes = %d", r)
	}
	le := binary.LittleEndian
	if v := le.Uint32(vars[0:]); v != 2 {
		t.Errorf("memory type %d, want 2", v)
	}
	if v := le.Uint32(vars[16:]); v != 0 {
		t.Errorf("ordinal %d, want 0", v)
	}
	if vars[40] != 0 {
		t.Errorf("is-managed byte %#x, want 0", vars[40])
	}
	for _, i := range []int{4, 5, 6, 7, 20, 21, 41, 42, 43} {
		if vars[i] != 0xee {
			t.Errorf("byte %d past a variable was written (%#x)", i, vars[i])
		}
	}
}
