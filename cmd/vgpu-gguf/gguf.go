package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// GGUF constants (the GGUF format as ggml's documentation describes it). Everything is little-endian.
const (
	ggufMagic          = "GGUF"
	ggufVersion        = 3
	defaultAlignment   = 32
	keyGeneralAlign    = "general.alignment"
	maxDims            = 4  // GGML_MAX_DIMS
	maxTensorNameBytes = 63 // GGML_MAX_NAME is 64 including the NUL
)

// valueType is the type tag of a metadata value (gguf_type).
type valueType uint32

const (
	typeUint8   valueType = 0
	typeInt8    valueType = 1
	typeUint16  valueType = 2
	typeInt16   valueType = 3
	typeUint32  valueType = 4
	typeInt32   valueType = 5
	typeFloat32 valueType = 6
	typeBool    valueType = 7
	typeString  valueType = 8
	typeArray   valueType = 9
	typeUint64  valueType = 10
	typeInt64   valueType = 11
	typeFloat64 valueType = 12
)

var valueTypeNames = map[valueType]string{
	typeUint8: "uint8", typeInt8: "int8", typeUint16: "uint16", typeInt16: "int16",
	typeUint32: "uint32", typeInt32: "int32", typeFloat32: "float32", typeBool: "bool",
	typeString: "string", typeArray: "array", typeUint64: "uint64", typeInt64: "int64",
	typeFloat64: "float64",
}

func (t valueType) String() string {
	if s, ok := valueTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("gguf_type(%d)", uint32(t))
}

// KV is one metadata pair. Value holds the Go type matching its GGUF type: uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64, float64, or a slice of one of those
// for an array (only arrays of scalars and strings; GGUF arrays of arrays are not used here).
type KV struct {
	Key   string
	Value any
}

// kvType returns the GGUF type tag of v and, for slices, the element type.
func kvType(v any) (t, elem valueType, err error) {
	switch v.(type) {
	case uint8:
		return typeUint8, 0, nil
	case int8:
		return typeInt8, 0, nil
	case uint16:
		return typeUint16, 0, nil
	case int16:
		return typeInt16, 0, nil
	case uint32:
		return typeUint32, 0, nil
	case int32:
		return typeInt32, 0, nil
	case float32:
		return typeFloat32, 0, nil
	case bool:
		return typeBool, 0, nil
	case string:
		return typeString, 0, nil
	case uint64:
		return typeUint64, 0, nil
	case int64:
		return typeInt64, 0, nil
	case float64:
		return typeFloat64, 0, nil
	case []uint8:
		return typeArray, typeUint8, nil
	case []int8:
		return typeArray, typeInt8, nil
	case []uint16:
		return typeArray, typeUint16, nil
	case []int16:
		return typeArray, typeInt16, nil
	case []uint32:
		return typeArray, typeUint32, nil
	case []int32:
		return typeArray, typeInt32, nil
	case []float32:
		return typeArray, typeFloat32, nil
	case []bool:
		return typeArray, typeBool, nil
	case []string:
		return typeArray, typeString, nil
	case []uint64:
		return typeArray, typeUint64, nil
	case []int64:
		return typeArray, typeInt64, nil
	case []float64:
		return typeArray, typeFloat64, nil
	}
	return 0, 0, fmt.Errorf("unsupported metadata value type %T", v)
}

// ggmlType is a tensor element type (enum ggml_type). Only the three this tool writes are known.
type ggmlType uint32

const (
	ggmlF32  ggmlType = 0
	ggmlF16  ggmlType = 1
	ggmlQ8_0 ggmlType = 8
)

const q8BlockSize = 32               // elements per Q8_0 block (QK8_0)
const q8BlockBytes = 2 + q8BlockSize // fp16 scale + 32 int8 quants

func (t ggmlType) String() string {
	switch t {
	case ggmlF32:
		return "F32"
	case ggmlF16:
		return "F16"
	case ggmlQ8_0:
		return "Q8_0"
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}

// blockSize and typeSize are ggml_blck_size and ggml_type_size.
func (t ggmlType) blockSize() int64 {
	if t == ggmlQ8_0 {
		return q8BlockSize
	}
	return 1
}

func (t ggmlType) typeSize() int64 {
	switch t {
	case ggmlF32:
		return 4
	case ggmlF16:
		return 2
	case ggmlQ8_0:
		return q8BlockBytes
	}
	return 0
}

func (t ggmlType) known() bool { return t.typeSize() != 0 }

// rowBytes is the size of one row of ne0 elements; ne0 must be a multiple of the block size.
func (t ggmlType) rowBytes(ne0 int64) int64 { return ne0 / t.blockSize() * t.typeSize() }

// nbytes is ggml_nbytes for a contiguous tensor of these dims (ne0 first).
func nbytes(t ggmlType, dims []uint64) int64 {
	if len(dims) == 0 {
		return t.typeSize()
	}
	n := t.rowBytes(int64(dims[0]))
	for _, d := range dims[1:] {
		n *= int64(d)
	}
	return n
}

func alignUp(x, a int64) int64 { return (x + a - 1) / a * a }

// --- half precision ---

// f32ToF16 converts to IEEE 754 binary16 with round-to-nearest-even, as the F16C instruction and
// ggml's own conversion do: overflow gives ±Inf, NaN stays a (quiet) NaN, tiny values go subnormal.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half (or zero): value = m * 2^-24 with m = M >> (14-e), M the 24-bit significand.
		shift := uint(14 - e)
		if shift > 24 {
			return sign
		}
		m := mant | 0x800000
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++ // may carry into the smallest normal, which is the right encoding
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to Inf, which is right
	}
	return sign | uint16(h)
}

// f16ToF32 converts an IEEE binary16 to float32 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// --- Q8_0 ---

// quantizeQ8_0 appends the Q8_0 encoding of x (len a multiple of 32) to dst, the way ggml's
// reference quantize_row_q8_0 does: per block d = max|x|/127, q = round(x/d), d stored as fp16.
func quantizeQ8_0(dst []byte, x []float32) []byte {
	if len(x)%q8BlockSize != 0 {
		panic("quantizeQ8_0: length not a multiple of 32")
	}
	for b := 0; b < len(x); b += q8BlockSize {
		blk := x[b : b+q8BlockSize]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		dst = binary.LittleEndian.AppendUint16(dst, f32ToF16(d))
		for _, v := range blk {
			q := math.Round(float64(v * id))
			q = math.Max(-127, math.Min(127, q))
			dst = append(dst, byte(int8(q)))
		}
	}
	return dst
}

// dequantizeQ8_0 decodes Q8_0 blocks into float32 values (32 per 34-byte block).
func dequantizeQ8_0(src []byte) []float32 {
	out := make([]float32, 0, len(src)/q8BlockBytes*q8BlockSize)
	for b := 0; b+q8BlockBytes <= len(src); b += q8BlockBytes {
		d := f16ToF32(binary.LittleEndian.Uint16(src[b:]))
		for _, q := range src[b+2 : b+q8BlockBytes] {
			out = append(out, d*float32(int8(q)))
		}
	}
	return out
}

// encodeRow appends one row of values in type t.
func encodeRow(dst []byte, t ggmlType, x []float32) []byte {
	switch t {
	case ggmlF32:
		for _, v := range x {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	case ggmlF16:
		for _, v := range x {
			dst = binary.LittleEndian.AppendUint16(dst, f32ToF16(v))
		}
	case ggmlQ8_0:
		dst = quantizeQ8_0(dst, x)
	default:
		panic("encodeRow: unsupported type " + t.String())
	}
	return dst
}

// decodeTensor turns tensor bytes back into float32 values.
func decodeTensor(t ggmlType, b []byte) ([]float32, error) {
	switch t {
	case ggmlF32:
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case ggmlF16:
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = f16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out, nil
	case ggmlQ8_0:
		return dequantizeQ8_0(b), nil
	}
	return nil, fmt.Errorf("cannot decode tensor type %v", t)
}

// --- writer ---

// TensorInfo describes one tensor: dims fastest-varying first (ne0 = row length), and its data
// offset relative to the start of the (aligned) data section.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   ggmlType
	Offset uint64
}

// Size is the tensor's data size in bytes, without alignment padding.
func (ti TensorInfo) Size() int64 { return nbytes(ti.Type, ti.Dims) }

// encoder writes little-endian GGUF primitives and counts the bytes written.
type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	var n int
	n, e.err = e.w.Write(b)
	e.n += int64(n)
}

func (e *encoder) u32(v uint32) { e.raw(binary.LittleEndian.AppendUint32(nil, v)) }
func (e *encoder) u64(v uint64) { e.raw(binary.LittleEndian.AppendUint64(nil, v)) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }
func (e *encoder) pad(align int64) {
	if p := alignUp(e.n, align) - e.n; p > 0 {
		e.raw(make([]byte, p))
	}
}

// scalar appends the encoding of one scalar value (no type tag).
func appendScalar(b []byte, v any) []byte {
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case string:
		b = le.AppendUint64(b, uint64(len(x)))
		return append(b, x...)
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	}
	panic(fmt.Sprintf("appendScalar: %T", v))
}

func appendArray[T any](b []byte, xs []T) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(xs)))
	for _, x := range xs {
		b = appendScalar(b, x)
	}
	return b
}

func (e *encoder) kv(kv KV) {
	t, elem, err := kvType(kv.Value)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("key %q: %w", kv.Key, err)
		}
		return
	}
	e.str(kv.Key)
	e.u32(uint32(t))
	if t != typeArray {
		e.raw(appendScalar(nil, kv.Value))
		return
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(elem))
	switch xs := kv.Value.(type) {
	case []uint8:
		b = appendArray(b, xs)
	case []int8:
		b = appendArray(b, xs)
	case []uint16:
		b = appendArray(b, xs)
	case []int16:
		b = appendArray(b, xs)
	case []uint32:
		b = appendArray(b, xs)
	case []int32:
		b = appendArray(b, xs)
	case []float32:
		b = appendArray(b, xs)
	case []bool:
		b = appendArray(b, xs)
	case []string:
		b = appendArray(b, xs)
	case []uint64:
		b = appendArray(b, xs)
	case []int64:
		b = appendArray(b, xs)
	case []float64:
		b = appendArray(b, xs)
	}
	e.raw(b)
}

// layoutTensors sets each tensor's Offset the way ggml requires (gguf.cpp rejects anything else):
// tensors lie in info order, each starting at the previous end rounded up to the alignment.
// It returns the size of the data section including the last tensor's padding.
func layoutTensors(ts []TensorInfo, align int64) int64 {
	var off int64
	for i := range ts {
		ts[i].Offset = uint64(off)
		off = alignUp(off+ts[i].Size(), align)
	}
	return off
}

// writeGGUF writes a complete GGUF v3 file: header, KVs, tensor infos (whose offsets must already
// be laid out by layoutTensors), zero padding to the alignment, then each tensor's data from
// fill followed by zero padding. fill(i, w) must write exactly ts[i].Size() bytes.
func writeGGUF(w io.Writer, kvs []KV, ts []TensorInfo, align int64, fill func(i int, w io.Writer) error) (int64, error) {
	if align <= 0 || align&(align-1) != 0 {
		return 0, fmt.Errorf("alignment %d is not a power of two", align)
	}
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20)}
	e.raw([]byte(ggufMagic))
	e.u32(ggufVersion)
	e.u64(uint64(len(ts)))
	e.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		e.kv(kv)
	}
	for _, ti := range ts {
		if len(ti.Dims) == 0 || len(ti.Dims) > maxDims {
			return e.n, fmt.Errorf("tensor %q: %d dims", ti.Name, len(ti.Dims))
		}
		e.str(ti.Name)
		e.u32(uint32(len(ti.Dims)))
		for _, d := range ti.Dims {
			e.u64(d)
		}
		e.u32(uint32(ti.Type))
		e.u64(ti.Offset)
	}
	e.pad(align)
	dataStart := e.n
	for i, ti := range ts {
		if e.err != nil {
			break
		}
		if got := e.n - dataStart; got != int64(ti.Offset) {
			return e.n, fmt.Errorf("tensor %q: at data offset %d, laid out at %d", ti.Name, got, ti.Offset)
		}
		cw := &countingWriter{e: e}
		if err := fill(i, cw); err != nil {
			return e.n, fmt.Errorf("tensor %q: %w", ti.Name, err)
		}
		if cw.n != ti.Size() && e.err == nil {
			return e.n, fmt.Errorf("tensor %q: wrote %d bytes, want %d", ti.Name, cw.n, ti.Size())
		}
		e.pad(align)
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

type countingWriter struct {
	e *encoder
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	before := c.e.n
	c.e.raw(p)
	c.n += c.e.n - before
	if c.e.err != nil {
		return int(c.e.n - before), c.e.err
	}
	return len(p), nil
}

var errShort = errors.New("unexpected end of file")
