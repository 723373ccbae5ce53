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
