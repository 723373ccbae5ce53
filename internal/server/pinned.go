package server

import "log/slog"

// Page-locked copy buffers of a session without shared memory (a TCP or vsock client): an
// upload's piece arrives in the frame buffer and a download's piece leaves from the scratch
// buffer (Session.scratch); page-locked, the GPU copies them by DMA at its full rate instead of
// the driver staging pageable memory (about 12 GB/s against 50 on an H100 host), which would
// otherwise sit between each piece's network transfer and the next.
//
// A copy from page-locked memory on a stream (cuMemcpyHtoDAsync) only queues the DMA: the
// driver reads the bytes when the stream reaches it, maybe after the next frame has been read
// into the same buffer. So only frames of pinnedPayloadMin bytes or more use the page-locked
// buffer (smaller ones stay in pageable memory, which the driver copies before the call
// returns), and a call on a stream that reads host memory from it synchronises that stream
// before its thread reads on (Session.execIn, rowFacts.hostInStream). Without both, an async
// upload's bytes can be overwritten in flight (llama.cpp's per-token inputs over TCP: CUDA error
// 700 in its next kernel).

// pinnedPayloadSize holds the largest piece a client sends (client.chunkSize, 16 MiB) and its
// call's encoding.
const pinnedPayloadSize = 16<<20 + 64<<10

// pinnedPayloadMin: the first frame at least this big makes the session page-lock its frame
// buffer for the frames after it; the frames at least this big (and at most pinnedPayloadSize)
// after it are read into that buffer.
const pinnedPayloadMin = 1 << 20

// pinTries bounds the driver's refusals to page-lock the frame buffer (an attempt waits for a
// context current on the reading thread, which Pin needs).
const pinTries = 3

// pinnedBufs is the session's page-locked buffers: registered with the driver for the session's
// life, so none is freed while registered.
type pinnedBufs struct {
	payload []byte // the frame buffer for payloads that fit it, once page-locked
	tries   int
	keep    [][]byte // every buffer registered, kept alive
}

// pinPayloads page-locks a frame buffer for later frames once a frame of n bytes came over the
// socket (not shared memory, whose bulk never travels in frames).
func (s *Session) pinPayloads(n int) {
	pb := &s.pinned
	if n < pinnedPayloadMin || pb.payload != nil || pb.tries >= pinTries || len(s.shm) > 0 {
		return
	}
	p, ok := s.be.(Pinner)
	if !ok {
		return
	}
	if cc, ok := s.be.(interface{ ContextCurrent() bool }); ok && !cc.ContextCurrent() {
		return // the reading thread has no context yet: a later frame tries
	}
	pb.tries++
	b := make([]byte, pinnedPayloadSize)
	if !p.Pin(b) {
		if pb.tries == pinTries {
			s.logNow(slog.LevelInfo, "could not page-lock a %d MiB frame buffer: uploads over the socket are copied from pageable memory", len(b)>>20)
		}
		return
	}
	pb.payload = b
	pb.keep = append(pb.keep, b)
	s.conn.UsePayloadBuffer(b, pinnedPayloadMin)
	s.logNow(slog.LevelDebug, "page-locked a %d MiB frame buffer for uploads", len(b)>>20)
}
