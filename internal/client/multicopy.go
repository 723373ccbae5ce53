package client

import (
	"encoding/binary"
	"runtime"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Copies and peer questions between devices of different servers (servers.go). Two servers'
// GPUs cannot reach each other: a copy between them is staged through this process (a
// device-to-host copy from one server, then a host-to-device copy to the other) and returns once
// the bytes are there, even when the program asked for an async one. Peer copies between devices
// of one server run on that server. With one server every function here is the plain call.

// stageChunk bounds one piece of a staged copy (and its buffer).
const stageChunk = 32 << 20

// stagedCopy copies n bytes from device address src on server from to dst on server to through
// this process's memory. A copy on a stream comes after that stream's earlier work: a stream of
// the destination's server is synchronised first, one of the source's server carries the
// device-to-host copies; the legacy stream of each side orders the rest, as for a NULL stream.
func stagedCopy(to *remoteServer, dst uint64, from *remoteServer, src uint64, n, stream uint64) int64 {
	if n == 0 {
		return 0
	}
	vlog.Once("staged", "copies between devices of %s and %s go through this process (device to host, then host to device), synchronously", from, to)
	var srcStream uint64
	if stream > 2 {
		switch s, _ := serverOfHandle(stream); s {
		case to:
			if r := callOn(to, api.LibCuda, api.IDcuStreamSynchronize, stream); r != 0 {
				return r
			}
		case from:
			srcStream = stream
		}
	}
	buf := heapBytes(int(min(n, stageChunk)))
	p := ptrOf(&buf[0])
	for off := uint64(0); off < n; off += uint64(len(buf)) {
		k := min(uint64(len(buf)), n-off)
		var r int64
		if srcStream != 0 {
			r = callOn(from, api.LibCuda, api.IDcuMemcpyDtoHAsync_v2, p, src+off, k, srcStream)
		} else {
			r = callOn(from, api.LibCuda, api.IDcuMemcpyDtoH_v2, p, src+off, k)
		}
		if r != 0 {
			return r
		}
		if r := callOn(to, api.LibCuda, api.IDcuMemcpyHtoD_v2, dst+off, p, k); r != 0 {
			return r
		}
	}
	// buf is reached through p only: without this the collector may free it mid-copy (and did,
	// under load: TestMultiServerCopy read other bytes back)
	runtime.KeepAlive(buf)
	return 0
}

// crossServers says whether a device-to-device copy from src to dst spans two servers (each
// address held by one server only), and which.
func crossServers(dst, src uint64) (to, from *remoteServer, cross bool) {
	if !multiServers() {
		return nil, nil, false
	}
	to, onlyTo := ownerOf(dst)
	from, onlyFrom := ownerOf(src)
	return to, from, onlyTo && onlyFrom && to != from
}

// cuMemcpyDtoD_v2 and cuMemcpyDtoDAsync_v2: between two servers' memory, staged.
func cuMemcpyDtoD_v2(c *call) int64 {
	arg := cuMemcpyDtoD_v2Args(c.a)
	if to, from, cross := crossServers(arg.dstDevice(), arg.srcDevice()); cross {
		return stagedCopy(to, arg.dstDevice(), from, arg.srcDevice(), arg.ByteCount(), 0)
	}
	return remote(c)
}

func cuMemcpyDtoDAsync_v2(c *call) int64 {
	arg := cuMemcpyDtoDAsync_v2Args(c.a)
	if to, from, cross := crossServers(arg.dstDevice(), arg.srcDevice()); cross {
		return stagedCopy(to, arg.dstDevice(), from, arg.srcDevice(), arg.ByteCount(), arg.hStream())
	}
	return remoteAsync(c)
}

// ctxServer is the server a context belongs to (NULL: the calling thread's current one).
func ctxServer(ctx uint64) *remoteServer {
	if ctx == 0 {
		return currentServer()
	}
	if s, ok := serverOfHandle(ctx); ok {
		return s
	}
	return serverList()[0]
}

// cuMemcpyPeer(dst, dstContext, src, srcContext, n) and cuMemcpyPeerAsync(..., stream): the
// contexts name the servers; on one server the call runs there, across two it is staged.
func cuMemcpyPeer(c *call) int64 {
	arg := cuMemcpyPeerArgs(c.a)
	if !multiServers() {
		return remote(c)
	}
	to, from := ctxServer(arg.dstContext()), ctxServer(arg.srcContext())
	if to != from {
		return stagedCopy(to, arg.dstDevice(), from, arg.srcDevice(), arg.ByteCount(), 0)
	}
	c.srv = to
	return remote(c)
}

func cuMemcpyPeerAsync(c *call) int64 {
	arg := cuMemcpyPeerAsyncArgs(c.a)
	if !multiServers() {
		return remoteAsync(c)
	}
	to, from := ctxServer(arg.dstContext()), ctxServer(arg.srcContext())
	if to != from {
		return stagedCopy(to, arg.dstDevice(), from, arg.srcDevice(), arg.ByteCount(), arg.hStream())
	}
	c.srv = to
	return remoteAsync(c)
}

// cuDeviceCanAccessPeer: devices of two servers cannot reach each other (0).
func cuDeviceCanAccessPeer(c *call) int64 {
	arg := cuDeviceCanAccessPeerArgs(c.a)
	if multiServers() && arg.canAccessPeer() != 0 {
		a, ra := dev(int32(uint32(arg.dev())))
		b, rb := dev(int32(uint32(arg.peerDev())))
		if ra == 0 && rb == 0 && a.srv != b.srv {
			store(arg.canAccessPeer(), int32(0))
			return 0
		}
	}
	return remote(c)
}

// cuStreamWaitEvent(stream, event, flags): a stream cannot wait on the GPU for another server's
// event; the client waits for the event instead (cuEventSynchronize), so whatever is sent to the
// stream afterwards comes after it.
func cuStreamWaitEvent(c *call) int64 {
	arg := cuStreamWaitEventArgs(c.a)
	if multiServers() && arg.hEvent() != 0 {
		es, _ := serverOfHandle(arg.hEvent())
		ss := currentServer()
		if arg.hStream() > 2 {
			ss, _ = serverOfHandle(arg.hStream())
		}
		if es != nil && ss != nil && es != ss {
			vlog.Once("crosswait", "a stream of %s waits for an event of %s: this process waits for the event (cuEventSynchronize) before sending the stream more work", ss, es)
			return callOn(es, api.LibCuda, api.IDcuEventSynchronize, arg.hEvent())
		}
	}
	return remoteAsync(c)
}

// cuMemSetAccess(ptr, size, desc, count): the devices in the CUmemAccessDesc entries (a
// CUmemLocation {type, id} and flags, 12 bytes each) are translated to the server's ordinals; the
// call goes to the server of ptr, whose devices alone it can name.
func cuMemSetAccess(c *call) int64 {
	arg := cuMemSetAccessArgs(c.a)
	n := arg.count()
	if arg.desc() == 0 || n == 0 || n > 64 {
		return remote(c)
	}
	if r, ok := route(c); !ok {
		return r
	}
	desc := heapBytes(int(12 * n))
	copy(desc, hostBytes(arg.desc(), len(desc)))
	le := binary.LittleEndian
	for i := uint64(0); i < n; i++ {
		const locTypeDevice = 1
		if le.Uint32(desc[12*i:]) != locTypeDevice {
			continue
		}
		d, r := dev(int32(le.Uint32(desc[12*i+4:])))
		if r != 0 {
			continue // not initialised: the server answers
		}
		if c.srv != nil && d.srv != c.srv {
			vlog.Debugf("cuMemSetAccess: device %d is not a device of the memory's server (returning %d)", int32(le.Uint32(desc[12*i+4:])), cuErrInvalidDevice)
			return cuErrInvalidDevice
		}
		le.PutUint32(desc[12*i+4:], uint32(d.ordinal))
	}
	r := remote(&call{id: c.id, f: c.f, lib: c.lib, a: []uint64{arg.ptr(), arg.size(), ptrOf(&desc[0]), n}, srv: c.srv})
	runtime.KeepAlive(desc) // read through its address only
	return r
}
