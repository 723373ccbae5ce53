package server

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestRefusalReasonsListed: every reason front.go refuses a connection for is in
// refusalReasons, so its series exists (at 0) from the server's start, and the list names no
// reason front.go never uses.
func TestRefusalReasonsListed(t *testing.T) {
	src, err := os.ReadFile("front.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`refused?\("([a-z-]+)"`).FindAllStringSubmatch(string(src), -1) {
		used[m[1]] = true
	}
	if len(used) < 10 {
		t.Fatalf("found only %d reasons in front.go: %v", len(used), used)
	}
	for r := range used {
		if !slices.Contains(refusalReasons, r) {
			t.Errorf("front.go refuses for %q, which refusalReasons does not list", r)
		}
	}
	for _, r := range refusalReasons {
		if !used[r] {
			t.Errorf("refusalReasons lists %q, which front.go never refuses for", r)
		}
	}
}
