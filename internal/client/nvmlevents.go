package client

import (
	"sync"
	"time"
)

// NVML events. vgpu forwards no events from the server's GPUs (XID errors, clock changes): a
// device supports no event types, registering any is NVML_ERROR_NOT_SUPPORTED, and a wait
// waits its timeout and returns NVML_ERROR_TIMEOUT, as on a GPU where nothing happens. An
// event set lives in the client only; nvidia-smi makes one before it shows anything.

const (
	nvmlErrorNotSupported = 3
	nvmlErrorTimeout      = 10
)

// eventSetBase is where the client's event set handles start: values a program only passes
// back, never dereferences; never 0.
const eventSetBase = 0x7e5e7000

var eventSets struct {
	sync.Mutex
	next uint64
	live map[uint64]bool
}

func knownEventSet(set uint64) bool {
	eventSets.Lock()
	defer eventSets.Unlock()
	return eventSets.live[set]
}

func nvmlEventSetCreate(c *call) int64 {
	arg := nvmlEventSetCreateArgs(c.a)
	if !nvmlInitialized() {
		return nvmlErrorUninitialized
	}
	if arg.set() == 0 {
		return nvmlErrorInvalidArgument
	}
	eventSets.Lock()
	if eventSets.live == nil {
		eventSets.live = map[uint64]bool{}
	}
	eventSets.next++
	set := uint64(eventSetBase) + eventSets.next*16
	eventSets.live[set] = true
	eventSets.Unlock()
	*(*uint64)(ptrAt(arg.set())) = set
	return 0
}

func nvmlEventSetFree(c *call) int64 {
	arg := nvmlEventSetFreeArgs(c.a)
	if !nvmlInitialized() {
		return nvmlErrorUninitialized
	}
	eventSets.Lock()
	defer eventSets.Unlock()
	if !eventSets.live[arg.set()] {
		return nvmlErrorInvalidArgument
	}
	delete(eventSets.live, arg.set())
	return 0
}

func nvmlDeviceGetSupportedEventTypes(c *call) int64 {
	arg := nvmlDeviceGetSupportedEventTypesArgs(c.a)
	if !nvmlInitialized() {
		return nvmlErrorUninitialized
	}
	if arg.device() == 0 || arg.eventTypes() == 0 {
		return nvmlErrorInvalidArgument
	}
	*(*uint64)(ptrAt(arg.eventTypes())) = 0
	return 0
}

func nvmlDeviceRegisterEvents(c *call) int64 {
	arg := nvmlDeviceRegisterEventsArgs(c.a)
	if !nvmlInitialized() {
		return nvmlErrorUninitialized
	}
	if arg.device() == 0 || !knownEventSet(arg.set()) {
		return nvmlErrorInvalidArgument
	}
	return nvmlErrorNotSupported
}

func nvmlEventSetWait_v2(c *call) int64 {
	arg := nvmlEventSetWait_v2Args(c.a)
	if !nvmlInitialized() {
		return nvmlErrorUninitialized
	}
	if !knownEventSet(arg.set()) || arg.data() == 0 {
		return nvmlErrorInvalidArgument
	}
	time.Sleep(time.Duration(uint32(arg.timeoutms())) * time.Millisecond)
	return nvmlErrorTimeout
}

func nvmlEventSetWait(c *call) int64 { return nvmlEventSetWait_v2(c) }
