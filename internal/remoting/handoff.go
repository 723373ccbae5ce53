package remoting

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// TLSCapture is the connection under a server's tls.Conn while the server handshakes and reads
// the client's first frames: it keeps the encrypted records it reads and, through KeyLog, the
// session's traffic secrets, so that Handoff can give the session to another process
// (TLSState, RecordConn). Stop ends the capture (the session stays with the tls.Conn).
type TLSCapture struct {
	net.Conn
	mu      sync.Mutex
	stopped bool
	in      []byte   // bytes read that do not yet make a whole record
	recs    [][]byte // whole application-data records read (header and ciphertext)
	size    int      // bytes in recs
	over    bool     // more was read than a handshake and a hello take
	done    bool     // the handshake has finished (HandshakeDone)
	written int      // whole records written since then (tls.Conn writes whole records)
	wbad    bool     // a write since then was not whole records
	secrets map[string][]byte
}

// captureMax bounds what a capture keeps: a handshake and a Hello take a few KiB.
const captureMax = 256 << 10

func (c *TLSCapture) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		if !c.stopped && !c.over {
			c.scan(b[:n])
		}
		c.mu.Unlock()
	}
	return n, err
}

// scan splits what was read into records and keeps the application-data ones.
func (c *TLSCapture) scan(b []byte) {
	c.in = append(c.in, b...)
	for len(c.in) >= recordHeaderLen {
		n := recordHeaderLen + int(binary.BigEndian.Uint16(c.in[3:]))
		if len(c.in) < n {
			break
		}
		if c.in[0] == recordTypeApp {
			c.recs = append(c.recs, append([]byte(nil), c.in[:n]...))
			c.size += n
		}
		c.in = c.in[n:]
	}
	if c.size+len(c.in) > captureMax {
		c.over = true
	}
}

func (c *TLSCapture) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.done && !c.stopped {
		for p := b; len(p) > 0; {
			if len(p) < recordHeaderLen || len(p) < recordHeaderLen+int(binary.BigEndian.Uint16(p[3:])) {
				c.wbad = true
				break
			}
			p = p[recordHeaderLen+int(binary.BigEndian.Uint16(p[3:])):]
			c.written++
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// HandshakeDone marks the end of the handshake: what is written from here on uses the
// application traffic keys.
func (c *TLSCapture) HandshakeDone() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
}

// Stop ends the capture and frees what it kept.
func (c *TLSCapture) Stop() {
	c.mu.Lock()
	c.stopped, c.in, c.recs, c.secrets = true, nil, nil, nil
	c.mu.Unlock()
}

// KeyLog is the tls.Config.KeyLogWriter of this connection's handshake (NSS key log lines).
func (c *TLSCapture) KeyLog() *keyLog { return &keyLog{c} }

type keyLog struct{ c *TLSCapture }

func (k *keyLog) Write(line []byte) (int, error) {
	f := bytes.Fields(line)
	if len(f) == 3 {
		if secret, err := hex.DecodeString(string(f[2])); err == nil {
			k.c.mu.Lock()
			if k.c.secrets == nil {
				k.c.secrets = map[string][]byte{}
			}
			k.c.secrets[string(f[0])] = secret
			k.c.mu.Unlock()
		}
	}
	return len(line), nil
}

// Handoff returns the state a RecordConn needs to carry on the session of tc, a tls.Conn over
// c (the server's, or with client set the client's) whose handshake is done (HandshakeDone
// called) and whose reader has consumed every byte the peer sent: tc must not be used again,
// nor closed (its close_notify would take a sequence number the state has given away). An
// error says why the session cannot be handed off (it can still go on through tc).
func (c *TLSCapture) Handoff(tc *tls.Conn, client bool) (*TLSState, error) {
	cs := tc.ConnectionState()
	if cs.Version != tls.VersionTLS13 || !RecordSuiteSupported(cs.CipherSuite) {
		return nil, fmt.Errorf("suite %s", tls.CipherSuiteName(cs.CipherSuite))
	}
	// Nothing the client sent may wait inside tc: a read that cannot block must find nothing.
	c.Conn.SetReadDeadline(time.Now().Add(-time.Second))
	var one [1]byte
	n, err := tc.Read(one[:])
	c.Conn.SetReadDeadline(time.Time{})
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		return nil, errors.New("the peer sent more than was read")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		return nil, errors.New("the capture was stopped")
	case c.over:
		return nil, errors.New("more was read than a handshake and a hello take")
	case len(c.in) != 0:
		return nil, errors.New("a record is partly read")
	case !c.done || c.wbad:
		return nil, errors.New("the records written are not known")
	}
	st := &TLSState{Suite: cs.CipherSuite, ReadSecret: c.secrets["CLIENT_TRAFFIC_SECRET_0"], WriteSecret: c.secrets["SERVER_TRAFFIC_SECRET_0"],
		WriteSeq: uint64(c.written)}
	if client {
		st.ReadSecret, st.WriteSecret = st.WriteSecret, st.ReadSecret
	}
	if len(st.ReadSecret) == 0 || len(st.WriteSecret) == 0 {
		return nil, errors.New("no traffic secrets (KeyLog not the handshake's KeyLogWriter)")
	}
	// The peer's records under its handshake keys come first; the first one that opens with its
	// application key at sequence 0 starts the application data, and every later one must open
	// at the next number.
	first := -1
	for i, r := range c.recs {
		if st.OpensAt(r, 0) {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, errors.New("no application data record found")
	}
	for i := first + 1; i < len(c.recs); i++ {
		if !st.OpensAt(c.recs[i], uint64(i-first)) {
			return nil, fmt.Errorf("record %d does not open in sequence", i)
		}
	}
	st.ReadSeq = uint64(len(c.recs) - first)
	return st, nil
}
