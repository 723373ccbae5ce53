package ranges

import "testing"

func TestSet(t *testing.T) {
	var a Set
	a.Add(0x1000, 0x100)
	a.Add(0x3000, 0x10)
	a.Add(0x2000, 0x800)
	cases := []struct {
		p, n uint64
		ok   bool
		base uint64
	}{
		{0x1000, 0x100, true, 0x1000}, // exactly the allocation
		{0x10ff, 1, true, 0x1000},     // last byte
		{0x10ff, 2, false, 0},         // one past the end
		{0x1100, 0, false, 0},         // empty range at the end is not inside
		{0x0fff, 1, false, 0},         // before the first
		{0x2400, 0x400, true, 0x2000}, // inside the middle one
		{0x2400, 0x401, false, 0},     // past it
		{0x3000, 1 << 63, false, 0},   // overflow-sized
		{0xffffffffffffffff, 1, false, 0},
	}
	for _, c := range cases {
		base, _, ok := a.Find(c.p, c.n)
		if ok != c.ok || (ok && base != c.base) {
			t.Errorf("find(%#x, %#x) = %#x, %v; want %#x, %v", c.p, c.n, base, ok, c.base, c.ok)
		}
	}
	if !a.IsBase(0x2000) || a.IsBase(0x2001) {
		t.Error("isBase")
	}
	if !a.Remove(0x2000) || a.Remove(0x2000) {
		t.Error("remove twice")
	}
	if _, _, ok := a.Find(0x2000, 1); ok {
		t.Error("found a removed allocation")
	}
	if a.Len() != 2 {
		t.Errorf("len %d", a.Len())
	}
}

func TestOverlaps(t *testing.T) {
	var s Set
	s.Add(100, 50) // [100, 150)
	s.Add(200, 10) // [200, 210)
	for _, tc := range []struct {
		base, size uint64
		want       bool
	}{
		{0, 100, false}, {0, 101, true}, {149, 1, true}, {150, 50, false}, {120, 0, true},
		{90, 200, true}, {210, 5, false}, {205, 100, true}, {300, 1, false},
	} {
		if got := s.Overlaps(tc.base, tc.size); got != tc.want {
			t.Errorf("Overlaps(%d, %d) = %v, want %v", tc.base, tc.size, got, tc.want)
		}
	}
}
