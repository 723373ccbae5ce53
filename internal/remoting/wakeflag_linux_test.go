package remoting

import (
	"runtime"
	"testing"
	"time"
)

// TestWakeFlag: Wait sleeps until Set, on a thread of its own; a second Set reports the flag was
// set already; Wait on a set flag returns at once; Reset makes it wait again.
func TestWakeFlag(t *testing.T) {
	var f WakeFlag
	woke := make(chan struct{})
	go func() {
		runtime.LockOSThread() // as a C caller's thread is
		f.Wait()
		close(woke)
	}()
	select {
	case <-woke:
		t.Fatal("Wait returned before Set")
	case <-time.After(50 * time.Millisecond):
	}
	if !f.Set() {
		t.Fatal("the first Set reported the flag set already")
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("Set did not wake the waiting thread")
	}
	if f.Set() {
		t.Fatal("a second Set reported it woke a thread")
	}
	f.Wait() // set: returns at once
	f.Reset()
	done := make(chan struct{})
	go func() { f.Wait(); close(done) }()
	select {
	case <-done:
		t.Fatal("Wait returned after Reset without a Set")
	case <-time.After(50 * time.Millisecond):
	}
	f.Set()
	<-done
}
