package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/internal/remoting"
)

// blocksCall is a vgpuBlocksHtoDAsync of src to dst from the sender's cache.
func blocksCall(send *remoting.BlockCache, dst uint64, src []byte) remoting.Call {
	stored := send.Stored
	enc, _ := send.Encode(nil, src, nil)
	return fuzzCall("vgpuBlocksHtoDAsync", []uint64{dst, uint64(len(enc)), uint64(len(src)), uint64(send.Slots()), stored, 0}, enc)
}

// TestBlocksUpload: uploads as cached blocks land whole (rows named by their slot filled from
// the session's cache); once a call was refused before its blocks were stored (past its
// allocation), every later one is refused with a line saying the caches differ, rather than
// filled from the wrong slots.
func TestBlocksUpload(t *testing.T) {
	s := fuzzSession(t)
	var logged []string
	s.logSink = func(l string) { logged = append(logged, l) }
	send := remoting.NewBlockSender(64)
	row := func(v byte) []byte { return bytes.Repeat([]byte{v, v + 1, v + 2, v + 3}, remoting.BlockSize/4) }
	var src []byte
	for _, v := range []byte{1, 2, 1, 3, 2, 1} {
		src = append(src, row(v)...)
	}
	for i := range 2 {
		c := blocksCall(send, fuzzBufB, src)
		if r, _, _, err := s.exec(&c); r != 0 || err != nil {
			t.Fatalf("upload %d = %d, %v", i, r, err)
		}
		back := fuzzCall("cuMemcpyDtoH_v2", []uint64{fuzzBufB, uint64(len(src))})
		r, outs, _, err := s.exec(&back)
		if r != 0 || err != nil || len(outs) == 0 || !bytes.Equal(outs[0], src) {
			t.Fatalf("read back after upload %d: %d, %v, %d outputs", i, r, err, len(outs))
		}
	}
	if s.blocks.Stored != send.Stored || send.Stored != 3 {
		t.Fatalf("stored %d by the worker, %d by the client; want 3 and 3", s.blocks.Stored, send.Stored)
	}
	// past fuzzBufA's 4096 bytes: refused before its blocks are stored
	past := blocksCall(send, fuzzBufA, append(row(9), row(8)...))
	if r, _, _, _ := s.exec(&past); r == 0 {
		t.Fatal("an upload past its allocation was served")
	}
	next := blocksCall(send, fuzzBufB, append(row(9), row(1)...))
	if r, _, _, _ := s.exec(&next); r == 0 {
		t.Fatal("an upload after a refused one was served from a cache that no longer matches")
	}
	if all := strings.Join(logged, "\n"); !strings.Contains(all, "vgpuBlocksHtoDAsync refused: the client's cache of uploaded blocks (64 slots, 5 stored) is not this session's (64 slots, 3 stored)") {
		t.Fatalf("no line saying the caches differ:\n%s", all)
	}
}
