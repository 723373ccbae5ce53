package client

import "runtime"

// nvmlSamples serves nvmlDeviceGetSamples (table_nvml.go): (device, type, lastSeenTimeStamp,
// sampleValType, sampleCount, samples).
//
// With samples NULL, NVML answers how many samples there are and reads no capacity from
// *sampleCount; the server hands the host NULL for an empty output, so the count travels as 0
// (whatever the caller's variable holds) and the host's answer is written back to the caller.
// With samples given and *sampleCount 0 the wire call would look the same, so that call gets here
// what NVML documents for it, NVML_ERROR_INVALID_ARGUMENT.
func nvmlSamples(c *call) int64 {
	arg := nvmlSamplesArgs(c.a)
	count, samples := arg.sampleCount(), arg.samples()
	switch {
	case count == 0:
		return remote(c) // refused as a NULL count
	case samples == 0:
		n := new(uint32)
		q := *c
		q.a = append([]uint64(nil), c.a...)
		q.a[4] = ptrOf(n)
		r := remote(&q)
		if r == 0 {
			store(count, *n)
		}
		runtime.KeepAlive(n)
		return r
	case *(*uint32)(ptrAt(count)) == 0:
		return c.invalid("samples is given with *sampleCount 0")
	}
	return remote(c)
}
