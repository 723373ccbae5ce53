package server

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// What is written to fd 1 before take() is in what take() returns, every time: the drainer
// never holds bytes that take() cannot see (a kernel's printf must arrive with the reply of the
// synchronisation that printed it).
func TestStdoutCaptureTakesEverything(t *testing.T) {
	saved, err := unix.Dup(1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := captureStdout()
	if err != nil {
		t.Fatal(err)
	}
	var fails []string
	for i := 0; i < 2000; i++ {
		line := []byte(fmt.Sprintf("device printf %d\n", i))
		if _, err := unix.Write(1, line); err != nil {
			fails = append(fails, err.Error())
			break
		}
		if got := c.take(); !bytes.Equal(got, line) {
			fails = append(fails, fmt.Sprintf("write %d: took %q", i, got))
		}
	}
	unix.Dup2(saved, 1)
	unix.Close(saved)
	for _, f := range fails[:min(len(fails), 5)] {
		t.Error(f)
	}
	if len(fails) > 0 {
		t.Fatalf("%d of 2000 takes missed what was written before them", len(fails))
	}
}
