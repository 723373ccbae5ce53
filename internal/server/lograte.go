package server

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// A session's log lines are rate-limited: a client that sends thousands of refused calls a
// second must not fill the server's log (or its disk). Each session may log logBurst lines at
// once, then logRate a second; what it could not log is counted by kind and said in one line
// when it may log again, and when the session ends. Lines that start or end the session are
// never held back; with VGPU_LOG=debug nothing is.
const (
	logBurst    = 20
	logRate     = 1.0 // lines a second, after the burst
	maxLogKinds = 8   // kinds named in a summary; the rest are counted together
)

type logLimiter struct {
	tokens     float64
	last       time.Time // when tokens were last topped up
	suppressed int
	first      time.Time // the first line held back since the last summary
	kinds      map[string]int
	otherKinds int // lines of kinds beyond maxLogKinds
}

// allow reports whether a line of kind may be logged now; if not, it is counted.
func (l *logLimiter) allow(kind string, now time.Time) bool {
	if l.last.IsZero() {
		l.tokens = logBurst
	} else {
		l.tokens = min(logBurst, l.tokens+now.Sub(l.last).Seconds()*logRate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	if l.suppressed == 0 {
		l.first = now
		l.kinds = map[string]int{}
		l.otherKinds = 0
	}
	l.suppressed++
	if _, ok := l.kinds[kind]; ok || len(l.kinds) < maxLogKinds {
		l.kinds[kind]++
	} else {
		l.otherKinds++
	}
	return false
}

// summary returns the line that says what was held back and how many lines that was (and
// resets the count), or "".
func (l *logLimiter) summary(now time.Time) (string, int) {
	if l.suppressed == 0 {
		return "", 0
	}
	kinds := make([]string, 0, len(l.kinds))
	for k := range l.kinds {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if l.kinds[kinds[i]] != l.kinds[kinds[j]] {
			return l.kinds[kinds[i]] > l.kinds[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%d log lines held back over %v (at most %d at once, then %g a second): ", l.suppressed, now.Sub(l.first).Round(time.Millisecond), logBurst, logRate)
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s ×%d", k, l.kinds[k])
	}
	if l.otherKinds > 0 {
		fmt.Fprintf(&b, ", other kinds ×%d", l.otherKinds)
	}
	n := l.suppressed
	l.suppressed = 0
	return b.String(), n
}

// logKind is the kind of a line logged with format, for summaries: the format's text before
// its first verb or colon ("vgpuMemcpy2D refused"), or "other".
func logKind(format string) string {
	k := format
	if i := strings.IndexAny(k, "%:;("); i >= 0 {
		k = k[:i]
	}
	k = strings.TrimSpace(k)
	if len(k) > 60 {
		k = k[:60]
	}
	if k == "" {
		return "other"
	}
	return k
}
