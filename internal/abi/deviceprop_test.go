package abi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"github.com/vgpu/vgpu/internal/testout"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// referenceDir is testout.ReferenceDir.
func referenceDir() string { return testout.ReferenceDir() }

func off(f *DevicePropField, v13 bool) int {
	if v13 {
		return f.Off13
	}
	return f.Off12
}

// fullProp returns a DeviceProp whose every member holds a distinct non-zero pattern, so that a
// misplaced or missing member shows up in the encoded bytes.
func fullProp(t *testing.T) DeviceProp {
	t.Helper()
	var p DeviceProp
	for i := range DevicePropFields {
		f := &DevicePropFields[i]
		seed := uint32(i+1) * 0x01010101
		switch v := f.Value(&p).(type) {
		case nil:
		case *[256]byte:
			for j := 0; j < 255; j++ {
				v[j] = byte(seed) + byte(j)%7 + 1
			}
		case *[16]byte:
			for j := range v {
				v[j] = byte(seed) + byte(j) + 1
			}
		case *[8]byte:
			for j := range v {
				v[j] = byte(seed) + byte(j) + 1
			}
		case *int32:
			*v = int32(seed)
		case *uint32:
			*v = seed ^ 0x80000000
		case *uint64:
			*v = uint64(seed)<<32 | uint64(seed^0xffff)
		case *[2]int32:
			for j := range v {
				v[j] = int32(seed) + int32(j)
			}
		case *[3]int32:
			for j := range v {
				v[j] = int32(seed) + int32(j)
			}
		default:
			t.Fatalf("%s: unexpected type %T", f.Name, v)
		}
	}
	return p
}

// fieldBytes encodes one member alone (little-endian), the bytes the encoder must place at its offset.
func fieldBytes(t *testing.T, f *DevicePropField, p *DeviceProp) []byte {
	t.Helper()
	b := make([]byte, f.Size)
	switch v := f.Value(p).(type) {
	case nil:
	case *[256]byte:
		copy(b, v[:])
	case *[16]byte:
		copy(b, v[:])
	case *[8]byte:
		copy(b, v[:])
	case *int32:
		binary.LittleEndian.PutUint32(b, uint32(*v))
	case *uint32:
		binary.LittleEndian.PutUint32(b, *v)
	case *uint64:
		binary.LittleEndian.PutUint64(b, *v)
	case *[2]int32:
		for j, x := range v {
			binary.LittleEndian.PutUint32(b[4*j:], uint32(x))
		}
	case *[3]int32:
		for j, x := range v {
			binary.LittleEndian.PutUint32(b[4*j:], uint32(x))
		}
	default:
		t.Fatalf("%s: unexpected type %T", f.Name, v)
	}
	return b
}

func TestDevicePropSizes(t *testing.T) {
	var p DeviceProp
	if n := len(p.Encode12()); n != 1032 {
		t.Errorf("Encode12: %d bytes, want 1032", n)
	}
	if n := len(p.Encode13()); n != 1008 {
		t.Errorf("Encode13: %d bytes, want 1008", n)
	}
	q := fullProp(t)
	if n := len(q.Encode12()); n != DeviceProp12Size {
		t.Errorf("Encode12: %d bytes", n)
	}
	if n := len(q.Encode13()); n != DeviceProp13Size {
		t.Errorf("Encode13: %d bytes", n)
	}
}

// The table is self-consistent: each member's size matches its Go type and the attribute count,
// members of one layout neither overlap nor run past the end, each is naturally aligned, and
// together with padding they tile the struct.
func TestDevicePropTable(t *testing.T) {
	var p DeviceProp
	for _, v13 := range []bool{false, true} {
		size := DeviceProp12Size
		if v13 {
			size = DeviceProp13Size
		}
		owner := make([]string, size)
		for i := range DevicePropFields {
			f := &DevicePropFields[i]
			o := off(f, v13)
			if o < 0 {
				continue
			}
			if o+f.Size > size {
				t.Errorf("v13=%v %s: %d+%d past the end", v13, f.Name, o, f.Size)
				continue
			}
			align := 4
			switch f.Value(&p).(type) {
			case *uint64:
				align = 8
			case *[256]byte, *[16]byte, *[8]byte:
				align = 1
			}
			if o%align != 0 {
				t.Errorf("v13=%v %s at %d: not %d-aligned", v13, f.Name, o, align)
			}
			for j := o; j < o+f.Size; j++ {
				if owner[j] != "" {
					t.Errorf("v13=%v %s overlaps %s at %d", v13, f.Name, owner[j], j)
					break
				}
				owner[j] = f.Name
			}
		}
		// Holes may only be alignment padding before an 8-byte member: at most 4 bytes.
		for j := 0; j < size; {
			if owner[j] != "" {
				j++
				continue
			}
			k := j
			for k < size && owner[k] == "" {
				k++
			}
			if k-j > 4 || k == size {
				t.Errorf("v13=%v: hole %d..%d", v13, j, k)
			}
			j = k
		}
	}
	for i := range DevicePropFields {
		f := &DevicePropFields[i]
		want := 0
		n := 1
		switch v := f.Value(&p).(type) {
		case nil:
			want = f.Size
		case *[256]byte:
			want = 256
		case *[16]byte:
			want = 16
		case *[8]byte:
			want = 8
		case *int32, *uint32:
			want = 4
		case *uint64:
			want = 8
		case *[2]int32:
			want, n = 8, 2
		case *[3]int32:
			want, n = 12, 3
		default:
			t.Errorf("%s: type %T", f.Name, v)
		}
		if f.Size != want {
			t.Errorf("%s: Size %d, Go type wants %d", f.Name, f.Size, want)
		}
		if len(f.Attrs) != 0 && len(f.Attrs) != n {
			t.Errorf("%s: %d attributes for %d elements", f.Name, len(f.Attrs), n)
		}
		if len(f.Attrs) == 0 && f.Note == "" {
			t.Errorf("%s: neither attribute nor Note", f.Name)
		}
		for _, a := range f.Attrs {
			if _, ok := CUdeviceAttributeNames[a]; !ok || a < 1 || a >= CUdeviceAttributeMax {
				t.Errorf("%s: attribute %d is no CUdevice_attribute", f.Name, a)
			}
		}
	}
}

// Offsets that must hold whether or not the reference files are at hand.
func TestDevicePropKnownOffsets(t *testing.T) {
	known := []struct {
		name         string
		off12, off13 int
	}{
		{"name", 0, 0},
		{"uuid", 256, 256},
		{"totalGlobalMem", 288, 288},
		{"maxGridSize", 336, 336},
		{"clockRate", 348, -1},
		{"totalConstMem", 352, 352},
		{"major", 360, 360},
		{"multiProcessorCount", 388, 384},
		{"l2CacheSize", 616, 596},
		{"sharedMemPerMultiprocessor", 640, 624},
		{"sharedMemPerBlockOptin", 696, 672},
		{"maxBlocksPerMultiProcessor", 712, 688},
		{"reservedSharedMemPerBlock", 720, 696},
		{"unifiedFunctionPointers", 776, 752},
		{"deviceNumaConfig", -1, 756},
		{"hostNumaMultinodeIpcSupported", -1, 780},
	}
	p := fullProp(t)
	b12, b13 := p.Encode12(), p.Encode13()
	for _, k := range known {
		var f *DevicePropField
		for i := range DevicePropFields {
			if DevicePropFields[i].Name == k.name {
				f = &DevicePropFields[i]
			}
		}
		if f == nil {
			t.Errorf("%s: not in DevicePropFields", k.name)
			continue
		}
		if f.Off12 != k.off12 || f.Off13 != k.off13 {
			t.Errorf("%s: table %d/%d, want %d/%d", k.name, f.Off12, f.Off13, k.off12, k.off13)
		}
		want := fieldBytes(t, f, &p)
		if k.off12 >= 0 && !bytes.Equal(b12[k.off12:k.off12+f.Size], want) {
			t.Errorf("%s: Encode12 at %d has % x, want % x", k.name, k.off12, b12[k.off12:k.off12+f.Size], want)
		}
		if k.off13 >= 0 && !bytes.Equal(b13[k.off13:k.off13+f.Size], want) {
			t.Errorf("%s: Encode13 at %d has % x, want % x", k.name, k.off13, b13[k.off13:k.off13+f.Size], want)
		}
	}
}

// Every member lands at its table offset and nothing else is written: padding and reserved[]
// stay zero.
func TestDevicePropEncodePlacesEveryField(t *testing.T) {
	p := fullProp(t)
	for _, v13 := range []bool{false, true} {
		b := p.Encode12()
		if v13 {
			b = p.Encode13()
		}
		want := make([]byte, len(b))
		for i := range DevicePropFields {
			f := &DevicePropFields[i]
			if o := off(f, v13); o >= 0 {
				copy(want[o:], fieldBytes(t, f, &p))
			}
		}
		if !bytes.Equal(b, want) {
			for j := range b {
				if b[j] != want[j] {
					t.Errorf("v13=%v: first difference at byte %d: %#x, want %#x", v13, j, b[j], want[j])
					break
				}
			}
		}
		// reserved[] is all zero (padding is covered by the whole-buffer comparison above).
		for i := range DevicePropFields {
			f := &DevicePropFields[i]
			if f.Name == "reserved" && off(f, v13) >= 0 {
				if !bytes.Equal(b[off(f, v13):], make([]byte, f.Size)) {
					t.Errorf("v13=%v: reserved[] not zero", v13)
				}
			}
		}
	}
}

type refOffset struct {
	name string
	off  int
}

var refLine = regexp.MustCompile(`^(\d+) (\w+)(\[\d+\])?$`)

// parseOffsets reads a cudaDeviceProp-*.offsets file: "sizeof N", then "OFFSET member[ARRAY]".
func parseOffsets(t *testing.T, path string) (int, []refOffset) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	size := -1
	var l []refOffset
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "sizeof "); ok {
			size, err = strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("%s: %q", path, s)
			}
			continue
		}
		m := refLine.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%s: cannot parse %q", path, s)
		}
		o, _ := strconv.Atoi(m[1])
		l = append(l, refOffset{m[2], o})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return size, l
}

// The table agrees with the gcc-measured offsets of both layouts, member for member, both ways;
// each member's size fits before the next reference offset; the encoder writes there.
func TestDevicePropOffsetsMatchReference(t *testing.T) {
	dir := filepath.Join(referenceDir(), "cuda-12")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("reference offsets not available (%v); set VGPU_REFERENCE", err)
	}
	p := fullProp(t)
	for _, tc := range []struct {
		file string
		v13  bool
		enc  []byte
	}{
		{"cudaDeviceProp-12.offsets", false, p.Encode12()},
		{"cudaDeviceProp-13.offsets", true, p.Encode13()},
	} {
		size, ref := parseOffsets(t, filepath.Join(dir, tc.file))
		if size != len(tc.enc) {
			t.Errorf("%s: sizeof %d, encoder gives %d", tc.file, size, len(tc.enc))
		}
		seen := map[int]bool{}
		for k, r := range ref {
			end := size
			if k+1 < len(ref) {
				end = ref[k+1].off
			}
			idx := -1
			for i := range DevicePropFields {
				f := &DevicePropFields[i]
				if f.Name == r.name && off(f, tc.v13) >= 0 {
					idx = i
				}
			}
			if idx < 0 {
				t.Errorf("%s: member %s (offset %d) missing from DevicePropFields", tc.file, r.name, r.off)
				continue
			}
			seen[idx] = true
			f := &DevicePropFields[idx]
			if o := off(f, tc.v13); o != r.off {
				t.Errorf("%s: %s at %d, table says %d", tc.file, r.name, r.off, o)
				continue
			}
			if r.off+f.Size > end || end-(r.off+f.Size) >= 8 {
				t.Errorf("%s: %s size %d does not fit %d..%d", tc.file, r.name, f.Size, r.off, end)
			}
			if got, want := tc.enc[r.off:r.off+f.Size], fieldBytes(t, f, &p); !bytes.Equal(got, want) {
				t.Errorf("%s: encoder wrote % x at %s (%d), want % x", tc.file, got, r.name, r.off, want)
			}
		}
		for i := range DevicePropFields {
			f := &DevicePropFields[i]
			if off(f, tc.v13) >= 0 && !seen[i] {
				t.Errorf("%s: table member %s (offset %d) not in the reference", tc.file, f.Name, off(f, tc.v13))
			}
		}
	}
}

// h200Props: what the real stack reports for the H200 of cuda-13.0/props.txt in the reference
// folder (testout.ReferenceDir).
// Scalars; arrays are in h200Arrays.
var h200Props = map[string]int64{
	"ECCEnabled":                             1,
	"accessPolicyMaxWindowSize":              134217728,
	"asyncEngineCount":                       3,
	"canMapHostMemory":                       1,
	"canUseHostPointerForRegisteredMem":      1,
	"clockRate":                              1980000,
	"computeMode":                            0,
	"computePreemptionSupported":             1,
	"concurrentKernels":                      1,
	"concurrentManagedAccess":                1,
	"cooperativeLaunch":                      1,
	"deviceOverlap":                          1,
	"directManagedMemAccessFromHost":         0,
	"globalL1CacheSupported":                 1,
	"hostNativeAtomicSupported":              0,
	"integrated":                             0,
	"isMultiGpuBoard":                        0,
	"kernelExecTimeoutEnabled":               0,
	"l2CacheSize":                            62914560,
	"localL1CacheSupported":                  1,
	"luidDeviceNodeMask":                     0,
	"major":                                  9,
	"managedMemory":                          1,
	"maxBlocksPerMultiProcessor":             32,
	"maxSurface1D":                           32768,
	"maxSurfaceCubemap":                      32768,
	"maxTexture1D":                           131072,
	"maxTexture1DLinear":                     268435456,
	"maxTexture1DMipmap":                     32768,
	"maxTextureCubemap":                      32768,
	"maxThreadsPerBlock":                     1024,
	"maxThreadsPerMultiProcessor":            2048,
	"memoryBusWidth":                         6016,
	"memoryClockRate":                        3201000,
	"minor":                                  0,
	"multiGpuBoardGroupID":                   0,
	"multiProcessorCount":                    132,
	"pageableMemoryAccess":                   0,
	"pageableMemoryAccessUsesHostPageTables": 0,
	"pciBusID":                               0,
	"pciDeviceID":                            6,
	"pciDomainID":                            0,
	"persistingL2CacheMaxSize":               39321600,
	"regsPerBlock":                           65536,
	"regsPerMultiprocessor":                  65536,
	"reservedSharedMemPerBlock":              1024,
	"sharedMemPerBlock":                      49152,
	"sharedMemPerBlockOptin":                 232448,
	"sharedMemPerMultiprocessor":             233472,
	"singleToDoublePrecisionPerfRatio":       2,
	"streamPrioritiesSupported":              1,
	"surfaceAlignment":                       512,
	"tccDriver":                              0,
	"textureAlignment":                       512,
	"texturePitchAlignment":                  32,
	"totalConstMem":                          65536,
	"totalGlobalMem":                         150109880320,
	"unifiedAddressing":                      1,
	"warpSize":                               32,
	// props.txt has no memPitch; the H200's MAX_PITCH is 2^31-1 (testdata/h200-cuda13.0-cu-attrs.txt).
	"memPitch": 2147483647,
}

var h200Arrays = map[string][]int32{
	"maxGridSize":              {2147483647, 65535, 65535},
	"maxThreadsDim":            {1024, 1024, 64},
	"maxSurface1DLayered":      {32768, 2048},
	"maxSurface2D":             {131072, 65536},
	"maxSurface2DLayered":      {32768, 32768, 2048},
	"maxSurface3D":             {16384, 16384, 16384},
	"maxSurfaceCubemapLayered": {32768, 2046},
	"maxTexture1DLayered":      {32768, 2048},
	"maxTexture2D":             {131072, 65536},
	"maxTexture2DGather":       {32768, 32768},
	"maxTexture2DLayered":      {32768, 32768, 2048},
	"maxTexture2DLinear":       {131072, 65000, 2097120},
	"maxTexture2DMipmap":       {32768, 32768},
	"maxTexture3D":             {16384, 16384, 16384},
	"maxTexture3DAlt":          {8192, 8192, 32768},
	"maxTextureCubemapLayered": {32768, 2046},
}

var h200UUID = [16]byte{0xeb, 0x67, 0xd5, 0x20, 0x50, 0x97, 0xa1, 0x8f, 0xc6, 0x05, 0x61, 0x39, 0xd4, 0xe5, 0xad, 0x0b}

// Build the attribute answers from the props.txt values through the table, run them through
// PropFromAttributes and check every value in both encodings.
func TestPropFromAttributesH200RoundTrip(t *testing.T) {
	attrs := map[int32]int32{}
	for i := range DevicePropFields {
		f := &DevicePropFields[i]
		if len(f.Attrs) == 0 {
			continue
		}
		if arr, ok := h200Arrays[f.Name]; ok {
			for j, a := range f.Attrs {
				attrs[a] = arr[j]
			}
		} else if v, ok := h200Props[f.Name]; ok {
			attrs[f.Attrs[0]] = int32(v)
		}
	}
	asked := map[int32]bool{}
	p := PropFromAttributes(func(a int32) int32 { asked[a] = true; return attrs[a] }, "NVIDIA H200", h200UUID, 150109880320)

	covered := 0
	for _, v13 := range []bool{false, true} {
		b := p.Encode12()
		if v13 {
			b = p.Encode13()
		}
		for i := range DevicePropFields {
			f := &DevicePropFields[i]
			o := off(f, v13)
			if o < 0 {
				continue
			}
			if arr, ok := h200Arrays[f.Name]; ok {
				covered++
				for j, want := range arr {
					if got := int32(binary.LittleEndian.Uint32(b[o+4*j:])); got != want {
						t.Errorf("v13=%v %s[%d] at %d: %d, want %d", v13, f.Name, j, o+4*j, got, want)
					}
				}
				continue
			}
			want, ok := h200Props[f.Name]
			if !ok {
				continue
			}
			covered++
			var got int64
			switch f.Size {
			case 4:
				got = int64(int32(binary.LittleEndian.Uint32(b[o:])))
			case 8:
				got = int64(binary.LittleEndian.Uint64(b[o:]))
			}
			if got != want {
				t.Errorf("v13=%v %s at %d: %d, want %d", v13, f.Name, o, got, want)
			}
		}
		if !bytes.Equal(b[0:12], []byte("NVIDIA H200\x00")) || !bytes.Equal(b[256:272], h200UUID[:]) {
			t.Errorf("v13=%v: name/uuid wrong: %q % x", v13, b[0:12], b[256:272])
		}
	}
	if covered < 140 {
		t.Errorf("only %d member checks", covered)
	}
	// Every attribute the table names is asked for, and only those.
	for i := range DevicePropFields {
		for _, a := range DevicePropFields[i].Attrs {
			if !asked[a] {
				t.Errorf("attribute %d (%s) never asked", a, DevicePropFields[i].Name)
			}
		}
	}
	if p.Luid != [8]byte{} || p.LuidDeviceNodeMask != 0 {
		t.Error("luid not zero")
	}
}

func TestPropFromAttributesConversions(t *testing.T) {
	long := strings.Repeat("x", 300)
	p := PropFromAttributes(func(a int32) int32 {
		switch a {
		case 131: // NUMA_ID
			return -1
		case 139: // GPU_PCI_DEVICE_ID: > 2^31 as unsigned
			return -0x1d000000
		case 11: // MAX_PITCH
			return 2147483647
		}
		return 0
	}, long, [16]byte{}, 1)
	if p.Name[255] != 0 || p.Name[254] != 'x' {
		t.Error("name not truncated to 255 bytes plus NUL")
	}
	if p.DeviceNumaId != -1 {
		t.Errorf("deviceNumaId %d", p.DeviceNumaId)
	}
	if p.GpuPciDeviceID != 0xe3000000 {
		t.Errorf("gpuPciDeviceID %#x", p.GpuPciDeviceID)
	}
	if p.MemPitch != 2147483647 {
		t.Errorf("memPitch %d", p.MemPitch)
	}
	b := p.Encode13()
	if got := binary.LittleEndian.Uint32(b[760:]); got != 0xffffffff {
		t.Errorf("deviceNumaId bytes %#x", got)
	}
}

// readAttrDump reads testdata/h200-cuda13.0-*-attrs.txt: "attr rc value" lines.
func readAttrDump(t *testing.T, name string) map[int32][2]int32 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m := map[int32][2]int32{}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var a, rc, v int32
		fs := strings.Fields(l)
		if len(fs) != 3 {
			t.Fatalf("%s: %q", name, l)
		}
		for i, p := range []*int32{&a, &rc, &v} {
			n, err := strconv.ParseInt(fs[i], 10, 32)
			if err != nil {
				t.Fatalf("%s: %q", name, l)
			}
			*p = int32(n)
		}
		m[a] = [2]int32{rc, v}
	}
	return m
}

// The bytes a real libcudart 13.0 wrote for an H200 equal PropFromAttributes + Encode13 fed with
// the same device's cuDeviceGetAttribute answers, up to reserved[] (which the runtime leaves alone).
func TestRealH200Props13(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("testdata", "h200-cuda13.0-props.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(real) != DeviceProp13Size {
		t.Fatalf("dump is %d bytes", len(real))
	}
	cu := readAttrDump(t, "h200-cuda13.0-cu-attrs.txt")
	name := string(real[:bytes.IndexByte(real[:256], 0)])
	var uuid [16]byte
	copy(uuid[:], real[256:272])
	total := binary.LittleEndian.Uint64(real[288:])
	p := PropFromAttributes(func(a int32) int32 {
		r, ok := cu[a]
		if !ok || r[0] != 0 {
			t.Errorf("attribute %d not answered by the driver", a)
		}
		return r[1]
	}, name, uuid, total)
	got := p.Encode13()
	for i := range DevicePropFields {
		f := &DevicePropFields[i]
		if f.Off13 < 0 || f.Name == "reserved" {
			continue
		}
		if g, w := got[f.Off13:f.Off13+f.Size], real[f.Off13:f.Off13+f.Size]; !bytes.Equal(g, w) {
			t.Errorf("%s at %d: % x, real runtime % x", f.Name, f.Off13, g, w)
		}
	}
	if !bytes.Equal(got[:DeviceProp13ReservedOffset], real[:DeviceProp13ReservedOffset]) {
		t.Error("padding differs from the real runtime's")
	}
}

func TestCUdeviceAttributes(t *testing.T) {
	if len(CUdeviceAttributes) != CUdeviceAttributeCount || CUdeviceAttributeCount != 147 {
		t.Fatalf("%d attributes, count %d", len(CUdeviceAttributes), CUdeviceAttributeCount)
	}
	if len(CUdeviceAttributeNames) != CUdeviceAttributeCount {
		t.Errorf("%d names", len(CUdeviceAttributeNames))
	}
	for i, a := range CUdeviceAttributes {
		if a != int32(i+1) {
			t.Fatalf("CUdeviceAttributes[%d] = %d", i, a)
		}
		if !strings.HasPrefix(CUdeviceAttributeNames[a], "CU_DEVICE_ATTRIBUTE_") {
			t.Errorf("no name for %d", a)
		}
	}
	// The real driver answers exactly these.
	cu := readAttrDump(t, "h200-cuda13.0-cu-attrs.txt")
	for a := int32(0); a < 170; a++ {
		r, ok := cu[a]
		if !ok {
			t.Fatalf("dump lacks %d", a)
		}
		valid := a >= 1 && a < CUdeviceAttributeMax
		if (r[0] == 0) != valid {
			t.Errorf("attribute %d: driver CUresult %d, list says valid=%v", a, r[0], valid)
		}
	}
	// Spot checks of the enum.
	for a, n := range map[int32]string{
		1:   "CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK",
		8:   "CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK",
		75:  "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR",
		102: "CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED",
		130: "CU_DEVICE_ATTRIBUTE_NUMA_CONFIG",
		139: "CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID",
		143: "CU_DEVICE_ATTRIBUTE_HOST_NUMA_MULTINODE_IPC_SUPPORTED",
		147: "CU_DEVICE_ATTRIBUTE_ONLY_PARTIAL_HOST_NATIVE_ATOMIC_SUPPORTED",
	} {
		if CUdeviceAttributeNames[a] != n {
			t.Errorf("%d: %q, want %s", a, CUdeviceAttributeNames[a], n)
		}
	}
}

// The names in CUdeviceAttributeNames are exactly cuda.h's, when the reference header is at hand.
func TestCUdeviceAttributeNamesMatchHeader(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(referenceDir(), "cuda-13.0", "include", "cuda.h"))
	if err != nil {
		t.Skipf("reference cuda.h not available (%v)", err)
	}
	re := regexp.MustCompile(`(?m)^\s*(CU_DEVICE_ATTRIBUTE_\w+)\s*=\s*(\d+)\s*,`)
	byValue := map[int32]map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		v, _ := strconv.Atoi(m[2])
		if byValue[int32(v)] == nil {
			byValue[int32(v)] = map[string]bool{}
		}
		byValue[int32(v)][m[1]] = true
	}
	if len(byValue) != CUdeviceAttributeCount {
		t.Errorf("header defines %d values, list has %d", len(byValue), CUdeviceAttributeCount)
	}
	for v, names := range byValue {
		if !names[CUdeviceAttributeNames[v]] {
			t.Errorf("%d: %q is not among the header's names %v", v, CUdeviceAttributeNames[v], names)
		}
	}
}

func TestCudaDeviceAttrToCU(t *testing.T) {
	rt := readAttrDump(t, "h200-cuda13.0-rt-attrs.txt")
	cu := readAttrDump(t, "h200-cuda13.0-cu-attrs.txt")
	for a := int32(-1); a < 170; a++ {
		c, ok := CudaDeviceAttrToCU(a)
		r, have := rt[a]
		if !have {
			continue
		}
		// The real runtime succeeds exactly where the mapping does, and then returns the
		// driver's value for the mapped attribute.
		if (r[0] == 0) != ok {
			t.Errorf("cudaDeviceAttr %d: runtime rc %d, mapping ok=%v", a, r[0], ok)
			continue
		}
		if ok && cu[c][1] != r[1] {
			t.Errorf("cudaDeviceAttr %d -> %d: driver %d, runtime %d", a, c, cu[c][1], r[1])
		}
	}
	// Named runtime attributes keep the driver's number.
	for rtv, cuv := range map[int32]int32{
		1: 1, 8: 8, 13: 13, 36: 36, 75: 75, 97: 97, 106: 106, 108: 108, 111: 111,
		125: 125, 130: 130, 134: 134, 139: 139, 143: 143, 147: 147,
	} {
		if c, ok := CudaDeviceAttrToCU(rtv); !ok || c != cuv {
			t.Errorf("%d -> %d %v, want %d", rtv, c, ok, cuv)
		}
	}
	for _, bad := range []int32{0, -1, 148, 1000} {
		if _, ok := CudaDeviceAttrToCU(bad); ok {
			t.Errorf("%d accepted", bad)
		}
	}
}
