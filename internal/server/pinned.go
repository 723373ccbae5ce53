package server

import (
	"log/slog"

	"github.com/vgpu/vgpu/internal/api"
)

// Page-locked copy buffers of a session without shared memory (a TCP or vsock client): an
// upload's piece arrives in a frame buffer and a download's piece leaves from the scratch
// buffer (Session.scratch); page-locked, the GPU copies them by DMA at its full rate instead of
// the driver staging pageable memory (about 12 GB/s against 50 on an H100 host), which would
// otherwise sit between each piece's network transfer and the next.
//
// A copy from page-locked memory on a stream (cuMemcpyHtoDAsync) only queues the DMA: the
// driver reads the bytes when the stream reaches it, maybe after the next frame has been read.
// So only frames of pinnedPayloadMin bytes or more use the page-locked buffers (smaller ones stay
// in pageable memory, which the driver copies before the call returns), and a frame buffer whose
// DMA may still be queued is not read into until that DMA is done. Without both, an async
// upload's bytes can be overwritten in flight (llama.cpp's per-token inputs over TCP: CUDA error
// 700 in its next kernel).
//
// The session has two frame buffers so that the network and the GPU both work during a large
// upload: an upload whose reply nobody waits for (an async frame: cuMemcpyHtoDAsync_v2, or a
// piece of a synchronous cuMemcpyHtoD_v2 but its last, which client.chunked sends so) queues its
// DMA, an event recorded after it marks when its buffer is free, and the next frame is read into
// the other buffer meanwhile (queueFromFrame). A synchronous piece is queued as the async copy on
// the legacy default stream, where the synchronous copy runs too: the device orders it as before,
// and the last piece, which waits, comes after it. An upload whose reply the client waits for
// keeps the host waiting for its DMA, as natively.

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
	payload [2][]byte // the frame buffers, once page-locked (the second when first needed)
	cur     int       // the frame buffer frames are read into now; its DMA is done
	queued  uint64    // an event recorded after the DMA that reads the other one (0: none)
	tries   int
	single  bool     // the second frame buffer could not be page-locked: uploads wait for their DMA
	keep    [][]byte // every buffer registered, kept alive
}

// pinPayloads page-locks a frame buffer for later frames once a frame of n bytes came over the
// socket (not shared memory, whose bulk never travels in frames).
func (s *Session) pinPayloads(n int) {
	pb := &s.pinned
	if n < pinnedPayloadMin || pb.payload[0] != nil || pb.tries >= pinTries || len(s.shm) > 0 {
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
	b := pb.pinFrameBuffer(p)
	if b == nil {
		if pb.tries == pinTries {
			s.logNow(slog.LevelInfo, "could not page-lock a %d MiB frame buffer: uploads over the socket are copied from pageable memory", pinnedPayloadSize>>20)
		}
		return
	}
	pb.payload[0] = b
	s.conn.UsePayloadBuffer(b, pinnedPayloadMin)
	s.logNow(slog.LevelDebug, "page-locked a %d MiB frame buffer for uploads", len(b)>>20)
}

// pinFrameBuffer makes a frame buffer and page-locks it with p, keeping it alive for the
// session's life; nil where the driver refuses.
func (pb *pinnedBufs) pinFrameBuffer(p Pinner) []byte {
	b := make([]byte, pinnedPayloadSize)
	if !p.Pin(b) {
		return nil
	}
	pb.keep = append(pb.keep, b)
	return b
}

var (
	htodID, htodAsyncID = api.IDcuMemcpyHtoD_v2, api.IDcuMemcpyHtoDAsync_v2
	eventCreateID       = api.IDcuEventCreate
	eventRecordID       = api.IDcuEventRecord
	eventSyncID         = api.IDcuEventSynchronize
	eventDestroyID      = api.IDcuEventDestroy_v2
)

// eventDisableTiming is CU_EVENT_DISABLE_TIMING: the cheapest event, for waiting on.
const eventDisableTiming = 2

// uploadFromFrame runs an upload (row id: cuMemcpyHtoD_v2, or one with hostInStream) whose bytes
// came in a page-locked frame buffer. When nobody waits for its reply (s.frame.async), its DMA is
// queued with the next frame read into the other buffer meanwhile where it can be (see above);
// else it is waited for before the buffer is read into again.
func (s *Session) uploadFromFrame(id api.ID, f *api.Func, a *Args) int32 {
	k, async := rowFacts[id].hostInStream, s.frame.async
	if id == htodID {
		if !async || s.pinned.single {
			return s.be.Invoke(id, f, a) // returns once the DMA is done (page-locked source)
		}
		in := cuMemcpyHtoD_v2Args{a}
		const legacyStream = 0 // the synchronous copy's
		a = &Args{Vals: []uint64{in.dstDevice(), 0, in.ByteCount(), legacyStream}, In: [][]byte{nil, in.srcHost(), nil, nil}, Out: make([][]byte, 4), Thread: a.Thread}
		id, k = htodAsyncID, rowFacts[htodAsyncID].hostInStream
		f = &api.Table[id]
	}
	result := s.be.Invoke(id, f, a)
	if result != 0 {
		return result
	}
	if async {
		if r, ok := s.queueFromFrame(a.Vals[k]); ok {
			return r
		}
	}
	return s.syncStream(a.Vals[k])
}

// queueFromFrame leaves the DMA just queued on stream from the current frame buffer in flight:
// it records an event after it and switches the frames to the other buffer, first waiting for
// the DMA queued from that one (whose failure it returns). ok is false where it cannot (no
// second buffer, or no event on that stream): the caller waits for the stream.
func (s *Session) queueFromFrame(stream uint64) (int32, bool) {
	pb := &s.pinned
	other := 1 - pb.cur
	if pb.payload[other] == nil && !s.pinSecond() {
		return 0, false
	}
	a, r := s.invokeRow(eventCreateID, 0, eventDisableTiming)
	if r != 0 {
		return 0, false
	}
	ev := le64(cuEventCreateArgs{a}.phEvent())
	if _, r := s.invokeRow(eventRecordID, ev, stream); r != 0 {
		s.invokeRow(eventDestroyID, ev)
		return 0, false
	}
	before := pb.queued
	pb.queued, pb.cur = ev, other
	s.conn.UsePayloadBuffer(pb.payload[other], pinnedPayloadMin)
	if before == 0 {
		return 0, true
	}
	if _, r = s.invokeRow(eventSyncID, before); fenceOK(r) {
		r = 0
	}
	s.invokeRow(eventDestroyID, before)
	return r, true
}

// pinSecond page-locks the second frame buffer; where the driver refuses, uploads go on with
// one, waiting for each DMA.
func (s *Session) pinSecond() bool {
	pb := &s.pinned
	if pb.single {
		return false
	}
	var b []byte
	if p, ok := s.be.(Pinner); ok {
		b = pb.pinFrameBuffer(p)
	}
	if b == nil {
		pb.single = true
		s.logNow(slog.LevelInfo, "could not page-lock a second %d MiB frame buffer: each upload over the socket waits for its copy to the GPU", pinnedPayloadSize>>20)
		return false
	}
	pb.payload[1] = b
	s.logNow(slog.LevelDebug, "page-locked a second %d MiB frame buffer: uploads cross the network while the GPU copies the last piece", len(b)>>20)
	return true
}
