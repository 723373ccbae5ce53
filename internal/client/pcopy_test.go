package client

import (
	"bytes"
	"testing"
)

// pcopy copies every byte whatever the size and the number of threads, and nothing beyond.
func TestPcopy(t *testing.T) {
	defer func(n int) { copyThreads = n }(copyThreads)
	for _, threads := range []int{1, 2, 4, 7} {
		copyThreads = threads
		for _, n := range []int{0, 1, copyPart - 1, 2*copyPart + 7, 5<<20 + 3} {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i*31 + i>>12)
			}
			dst := make([]byte, n+16)
			for i := range dst {
				dst[i] = 0xee
			}
			pcopy(dst[:n], src)
			if !bytes.Equal(dst[:n], src) {
				t.Fatalf("%d threads, %d bytes: copy differs", threads, n)
			}
			if !bytes.Equal(dst[n:], bytes.Repeat([]byte{0xee}, 16)) {
				t.Fatalf("%d threads, %d bytes: wrote past the end", threads, n)
			}
		}
	}
}

// inParts covers [0, size) once, in at most n parts that start at multiples of align, and says
// how many it made.
func TestInParts(t *testing.T) {
	for _, c := range []struct{ size, n, align int }{{0, 4, 8}, {7, 4, 8}, {100, 1, 8}, {1 << 20, 4, 8}, {1<<20 + 13, 4, 8}, {1001, 3, 1}, {10, 0, 1}} {
		got := make([]int, c.size)
		starts := make([]int, max(c.n, 1))
		parts := inParts(c.size, c.n, c.align, func(k, i, j int) {
			starts[k] = i
			for x := i; x < j; x++ {
				got[x]++
			}
		})
		if parts < 1 || parts > max(c.n, 1) {
			t.Fatalf("%+v: %d parts", c, parts)
		}
		for k := range parts {
			if starts[k]%c.align != 0 {
				t.Fatalf("%+v: part %d starts at %d", c, k, starts[k])
			}
		}
		for x, v := range got {
			if v != 1 {
				t.Fatalf("%+v: byte %d covered %d times", c, x, v)
			}
		}
	}
}
