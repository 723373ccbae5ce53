package client

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
)

// An *Ex GEMM's alpha and beta are read at their compute type's size and sent zero-padded to 16
// bytes; the other arguments are untouched.
func TestCublasScalars(t *testing.T) {
	for _, name := range []string{"cublasGemmEx", "cublasGemmBatchedEx", "cublasGemmStridedBatchedEx"} {
		_, f, ok := api.Lookup(name)
		if !ok {
			t.Fatalf("no row %s", name)
		}
		ia, ib := f.ParamIndex("alpha"), f.ParamIndex("beta")
		ic, it := f.ParamIndex("computeType"), f.ParamIndex("Ctype")
		cases := []struct {
			compute, ctype int32
			alpha, beta    []byte
		}{
			{64, 2, []byte{0x00, 0x3c}, []byte{0x00, 0x00}}, // CUBLAS_COMPUTE_16F: half 1.0, 0.0
			{68, 0, cublasLE32(math.Float32bits(1.5)), cublasLE32(math.Float32bits(-2))},
			{70, 1, cublasLE64(math.Float64bits(0.25)), cublasLE64(math.Float64bits(3))},
			{72, 10, cublasLE32(7), cublasLE32(0xffffffff)},
			{70, 5, append(cublasLE64(math.Float64bits(1)), cublasLE64(math.Float64bits(2))...), append(cublasLE64(math.Float64bits(3)), cublasLE64(math.Float64bits(4))...)},
		}
		for _, c := range cases {
			// The caller's scalars sit in the middle of larger buffers: only their own bytes may be read.
			alpha := bytes.Repeat([]byte{0xee}, 40)
			beta := bytes.Repeat([]byte{0xdd}, 40)
			copy(alpha[8:], c.alpha)
			copy(beta[8:], c.beta)
			args := make([]uint64, len(f.Params))
			for i := range args {
				args[i] = uint64(1000 + i)
			}
			args[ia], args[ib] = ptrOf(&alpha[8]), ptrOf(&beta[8])
			args[ic], args[it] = uint64(uint32(c.compute)), uint64(uint32(c.ctype))
			a, buf, r := cublasScalars(f, args)
			if r != 0 {
				t.Fatalf("%s compute %d: result %d", name, c.compute, r)
			}
			wa := make([]byte, api.CublasScalarWire)
			wb := make([]byte, api.CublasScalarWire)
			copy(wa, c.alpha)
			copy(wb, c.beta)
			if got := hostBytes(a[ia], api.CublasScalarWire); !bytes.Equal(got, wa) {
				t.Errorf("%s compute %d: alpha sent as % x, want % x", name, c.compute, got, wa)
			}
			if got := hostBytes(a[ib], api.CublasScalarWire); !bytes.Equal(got, wb) {
				t.Errorf("%s compute %d: beta sent as % x, want % x", name, c.compute, got, wb)
			}
			for i := range a {
				if i != ia && i != ib && a[i] != args[i] {
					t.Errorf("%s: argument %d changed from %d to %d", name, i, args[i], a[i])
				}
			}
			if args[ia] != ptrOf(&alpha[8]) {
				t.Errorf("%s: the caller's arguments were modified", name)
			}
			_ = buf
		}
		args := make([]uint64, len(f.Params))
		one := float32(1)
		args[ia], args[ib], args[ic] = ptrOf(&one), ptrOf(&one), 12345
		if _, _, r := cublasScalars(f, args); r != cublasInvalidValue {
			t.Errorf("%s: unknown compute type: result %d, want CUBLAS_STATUS_INVALID_VALUE", name, r)
		}
		args[ic], args[ib] = 68, 0
		if _, _, r := cublasScalars(f, args); r != cublasInvalidValue {
			t.Errorf("%s: NULL beta: result %d, want CUBLAS_STATUS_INVALID_VALUE", name, r)
		}
	}
}

// Handles this process never created are refused without a round trip.
func TestCublasUnknownHandle(t *testing.T) {
	if r := cublasBind(0x1234); r != cublasNotInitialized {
		t.Errorf("unknown handle: %d, want CUBLAS_STATUS_NOT_INITIALIZED", r)
	}
	c := &call{a: []uint64{0x1234, 1}}
	if r := cublasSetPointerMode_v2(c); r != cublasNotInitialized {
		t.Errorf("cublasSetPointerMode_v2 on an unknown handle: %d", r)
	}
}

func cublasLE32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func cublasLE64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
