package client

import "testing"

func TestVisibleDevices(t *testing.T) {
	mk := func(b byte) *device { d := &device{}; d.uuid[0], d.uuid[15] = b, b; return d }
	all := []*device{mk(0xaa), mk(0xbb), mk(0xab)}
	u := func(i int) string { return formatUUID(all[i].uuid) }
	cases := []struct {
		env  string
		want []int
	}{
		{"0", []int{0}},
		{"2,0", []int{2, 0}},
		{"1,7,0", []int{1}},  // parsing stops at the first device that does not exist
		{"0,0,1", []int{0}},  // and at a repeat
		{"", nil},            // set but empty: no device
		{"-1", nil},          // an invalid entry hides everything after it
		{u(1), []int{1}},     // full UUID
		{"GPU-bb", []int{1}}, // unique prefix
		{"GPU-a", nil},       // ambiguous prefix
		{u(2) + ",0", []int{2, 0}},
		{"GPU-ffffffff-0000-0000-0000-000000000000", nil},
	}
	for _, c := range cases {
		t.Setenv("CUDA_VISIBLE_DEVICES", c.env)
		got := visible(all, c.env)
		if len(got) != len(c.want) {
			t.Errorf("%q: %d devices, want %v", c.env, len(got), c.want)
			continue
		}
		for i, w := range c.want {
			if got[i] != all[w] {
				t.Errorf("%q: device %d is not %d", c.env, i, w)
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	if got := describe("CUDA_ERROR_INVALID_VALUE", "CUDA_ERROR_", "no error"); got != "invalid value" {
		t.Error(got)
	}
	if got := describeRuntime("cudaErrorNoDevice"); got != "no device" {
		t.Error(got)
	}
}
