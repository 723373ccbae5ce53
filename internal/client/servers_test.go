package client

import "testing"

// A handle of server k > 0 carries k in its top bits and leads back to k; the first server's
// handles are unchanged.
func TestHandleTags(t *testing.T) {
	list := []*remoteServer{{idx: 0}, {idx: 1, tag: 1 << tagShift}, {idx: 2, tag: 2 << tagShift}}
	for _, s := range list {
		h := tagHandle(s, "test", 0x5100010)
		if s.idx == 0 && h != 0x5100010 {
			t.Errorf("the first server's handle became %#x", h)
		}
		if k := int(h >> tagShift & 0x7f); k != s.idx || h&^tagMask != 0x5100010 {
			t.Errorf("server %d: handle %#x", s.idx, h)
		}
		if tagHandle(s, "test", 0) != 0 {
			t.Errorf("server %d: NULL was tagged", s.idx)
		}
	}
}

// The PCI domain of server k's devices is shifted by k*0x100, in both widths, and leads back to k.
func TestPCIDomainShift(t *testing.T) {
	for _, tc := range []struct {
		id   string
		k    int
		want string
	}{
		{"00000000:17:00.0", 1, "00000100:17:00.0"}, {"0000:17:00.0", 2, "0200:17:00.0"},
		{"00000001:3b:00.0", 0, "00000001:3b:00.0"}, {"00000300:17:00.0", -3, "00000000:17:00.0"},
	} {
		if got := shiftPCIDomain(tc.id, tc.k); got != tc.want {
			t.Errorf("shiftPCIDomain(%q, %d) = %q, want %q", tc.id, tc.k, got, tc.want)
		}
	}
	for _, tc := range []struct {
		id   string
		n, k int
	}{{"00000100:17:00.0", 3, 1}, {"0200:17:00.0", 3, 2}, {"00000300:17:00.0", 3, 0}, {"00000000:17:00.0", 3, 0}, {"17:00.0", 3, 0}} {
		if got := pciServer(tc.id, tc.n); got != tc.k {
			t.Errorf("pciServer(%q, %d) = %d, want %d", tc.id, tc.n, got, tc.k)
		}
	}
}
