package remoting

import (
	"testing"
	"time"
)

// waitPollers waits until n goroutines poll.
func waitPollers(t *testing.T, n int32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); pollers.Load() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("pollers %d, want %d", pollers.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A receiver polls while a slot is free, takes a value sent meanwhile, and sees a close; one
// beyond MaxPollers, or with no polling asked for, sleeps on the channel and still receives.
func TestPoll(t *testing.T) {
	old := MaxPollers.Load()
	defer MaxPollers.Store(old)
	MaxPollers.Store(1)

	ch := make(chan int, 1)
	got := make(chan int)
	go func() { v, _ := Poll(ch, time.Minute); got <- v }()
	waitPollers(t, 1)
	// a second receiver finds no slot: it sleeps (not counted) until its value comes
	ch2 := make(chan int, 1)
	got2 := make(chan int)
	go func() { v, _ := Poll(ch2, time.Minute); got2 <- v }()
	time.Sleep(10 * time.Millisecond)
	if n := pollers.Load(); n != 1 {
		t.Fatalf("pollers %d with one slot, want 1", n)
	}
	ch <- 7
	if v := <-got; v != 7 {
		t.Fatalf("polling receiver got %d, want 7", v)
	}
	waitPollers(t, 0)
	ch2 <- 8
	if v := <-got2; v != 8 {
		t.Fatalf("sleeping receiver got %d, want 8", v)
	}

	// polling runs out after spin, then the receiver sleeps until the value comes
	go func() { v, _ := Poll(ch, time.Millisecond); got <- v }()
	time.Sleep(20 * time.Millisecond)
	waitPollers(t, 0)
	ch <- 9
	if v := <-got; v != 9 {
		t.Fatalf("receiver after polling got %d, want 9", v)
	}

	// a close ends a poll with ok false
	done := make(chan bool)
	go func() { _, ok := Poll(ch, time.Minute); done <- ok }()
	waitPollers(t, 1)
	close(ch)
	if ok := <-done; ok {
		t.Fatal("Poll of a closed channel: ok")
	}

	// spin 0: no polling
	ch3 := make(chan int, 1)
	go func() { v, _ := Poll(ch3, 0); got <- v }()
	time.Sleep(10 * time.Millisecond)
	if n := pollers.Load(); n != 0 {
		t.Fatalf("pollers %d with spin 0", n)
	}
	ch3 <- 1
	<-got
}
