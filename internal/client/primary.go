package client

// A primary context's state (cuDevicePrimaryCtxGetState: its flags, and whether it is active) is
// asked by PyTorch before most operations: 355 round trips of a training step's 384
// (test/gpu/torch_train.py with VGPU_STATS=1 at 10 and 20 steps, H100, 2026-12-07). The primary
// contexts of a worker's process are the client's alone, and what deactivates one or changes its
// flags is the client's own call (cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxReset,
// cuDevicePrimaryCtxSetFlags), so the session keeps each device's answer while the context was
// active, and forgets its answers at those calls. An inactive context's state is asked of the worker each time: the worker may
// activate it itself (a library initialising the runtime on the device).

// cuDevicePrimaryCtxGetState answers from the session's state of the device when it has one.
func cuDevicePrimaryCtxGetState(c *call) int64 {
	arg := cuDevicePrimaryCtxGetStateArgs(c.a)
	if arg.flags() == 0 || arg.active() == 0 {
		return remote(c) // (the driver's CUDA_ERROR_INVALID_VALUE)
	}
	s, r := sessionFor(c)
	if s == nil {
		return r
	}
	s.mu.Lock()
	st, ok := s.primary[arg.dev()]
	broken, gen := s.broken != nil, s.primaryGen
	if ok && !broken {
		s.st.primaryHits++
	}
	s.mu.Unlock()
	if broken {
		return c.unreachable()
	}
	if ok {
		*(*uint32)(ptrAt(arg.flags())) = st.flags
		*(*int32)(ptrAt(arg.active())) = 1
		return 0
	}
	r = remote(c)
	if r == 0 && *(*int32)(ptrAt(arg.active())) == 1 {
		s.mu.Lock()
		if s.primaryGen == gen { // (no release or flags set since it was asked)
			if s.primary == nil {
				s.primary = map[uint64]primaryState{}
			}
			s.primary[arg.dev()] = primaryState{flags: *(*uint32)(ptrAt(arg.flags()))}
		}
		s.mu.Unlock()
	}
	return r
}

// primaryState is what a session knows of an active primary context.
type primaryState struct{ flags uint32 }

// primaryCtxChange: a release or reset (which may deactivate the context) forgets the
// session's states, and the threads' current contexts as cuCtxGetCurrent would answer them.
func primaryCtxChange(c *call) int64 {
	r := remoteForgettingPrimary(c)
	ctxEpoch.Add(1) // (a thread's current context may be the one released)
	return r
}

// remoteForgettingPrimary makes call c, which changes primary contexts, forgetting the
// session's states of them before and after it, so that no answer from before the change stays.
func remoteForgettingPrimary(c *call) int64 {
	forgetPrimary(c)
	r := remote(c)
	forgetPrimary(c)
	return r
}

// forgetPrimary forgets the primary contexts' states of the session call c goes to; an answer
// asked for before it is not kept (primaryGen).
func forgetPrimary(c *call) {
	if s, _ := sessionFor(c); s != nil {
		s.mu.Lock()
		s.primary = nil
		s.primaryGen++
		s.mu.Unlock()
	}
}
