package server

import (
	"fmt"
	"strconv"
	"strings"
)

// Policy is what the server grants one session: who the kernel or TLS proved the client to be,
// and the limits the server's configuration sets for that identity. The server decides it before
// a worker exists and passes it on the worker's command line (so the process list shows whose
// session a worker serves); the worker enforces it.
type Policy struct {
	// Identity as proved, never as claimed: "uid:1000", "cert:CN=alice", "token:ci-runner",
	// "cid:3", or "insecure:tcp 10.0.0.7" for a plain-TCP listener the operator asked for by name.
	Identity string
	// MemLimit is the device memory the session may hold on each device, in bytes (0: no limit).
	MemLimit uint64
	// Devices are the host GPUs the session may see, by index or UUID; empty: all of them.
	Devices []string
	// NoPin: the worker leaves the client's shared memory pageable (the server's
	// max_pinned_shared_memory was taken when the session began): copies through it are staged
	// by the driver.
	NoPin bool
}

// Args returns the worker flags that carry p.
func (p Policy) Args() []string {
	a := []string{"--identity", p.Identity}
	if p.MemLimit > 0 {
		a = append(a, "--mem-limit", strconv.FormatUint(p.MemLimit, 10))
	}
	if len(p.Devices) > 0 {
		a = append(a, "--devices", strings.Join(p.Devices, ","))
	}
	if p.NoPin {
		a = append(a, "--no-pin")
	}
	return a
}

// ParsePolicyFlags is the worker's side of Args: values of --identity, --mem-limit, --devices,
// --no-pin.
func ParsePolicyFlags(identity, memLimit, devices string, noPin bool) (Policy, error) {
	p := Policy{Identity: identity, NoPin: noPin}
	if memLimit != "" {
		v, err := strconv.ParseUint(memLimit, 10, 64)
		if err != nil {
			return Policy{}, fmt.Errorf("--mem-limit %q: %w", memLimit, err)
		}
		p.MemLimit = v
	}
	if devices != "" {
		p.Devices = strings.Split(devices, ",")
	}
	return p, nil
}
