package server

import (
	"container/list"
	"crypto/hmac"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// The front door: every accepted connection is handled in its own goroutine of the server
// process, under the handshake deadline, before any worker exists. The transport proves who the
// client is (SO_PEERCRED on unix sockets, the peer CID on vsock, a client certificate or a token
// inside TLS 1.3 on tcp, or the address on a tcp listener the operator made insecure by name);
// the server reads the Hello (exactly: nothing past it), checks version and table, applies the
// allow lists and the session limits, decides the session's Policy and only then starts the
// worker, which sends the Welcome.

// maxHello bounds a Hello payload (two strings of remoting.MaxString, a token and its proof).
const maxHello = 3*remoting.MaxString + remoting.MaxTokenProof + 64

// Listener is one address the server serves.
type Listener struct {
	net.Listener
	Addr     remoting.Addr
	tls      *tls.Config // tcp with TLS; nil otherwise
	sockGID  int         // unix: the socket's group, -1 if none
	insecure bool        // plain tcp, by the operator's choice
}

// Listen opens addr for s: a unix socket gets its folder (if missing), mode and group; tcp gets
// TLS unless the configuration says insecure.
func (s *Server) Listen(addr string) (*Listener, error) {
	a, err := remoting.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	l := &Listener{Addr: a, sockGID: -1}
	switch a.Scheme {
	case "unix":
		if err := s.listenUnix(l); err != nil {
			return nil, err
		}
	case "tcp":
		if s.cfg.Insecure {
			l.insecure = true
		} else {
			l.tls = s.tlsCfg
		}
		if l.Listener, err = remoting.Listen(a); err != nil {
			return nil, err
		}
	default:
		if l.Listener, err = remoting.Listen(a); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	return l, nil
}

// socketGroup resolves the configured group (or the default: vgpu if it exists); -1 for none.
func (s *Server) socketGroup() (int, error) {
	name := s.cfg.SocketGroup
	if name == "" {
		g, err := user.LookupGroup("vgpu")
		if err != nil {
			return -1, nil
		}
		name = g.Gid
	}
	if gid, err := strconv.Atoi(name); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, fmt.Errorf("socket_group %q: %w", name, err)
	}
	return strconv.Atoi(g.Gid)
}

func (s *Server) listenUnix(l *Listener) error {
	path := l.Addr.Path
	abstract := strings.HasPrefix(path, "@")
	gid, err := s.socketGroup()
	if err != nil {
		return err
	}
	mode := s.cfg.SocketMode
	if mode == 0 {
		mode = 0o600
		if gid >= 0 {
			mode = 0o660
		}
	}
	if !abstract {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("listen %s: creating its folder: %w", l.Addr, err)
		}
	}
	// The socket is created with no permissions for anyone but its owner, then given its mode.
	old := syscall.Umask(0o177)
	l.Listener, err = remoting.Listen(l.Addr)
	syscall.Umask(old)
	if err != nil {
		return err
	}
	l.sockGID = gid
	if abstract {
		return nil
	}
	if gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			l.Close()
			return fmt.Errorf("listen %s: socket group %d: %w", l.Addr, gid, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return fmt.Errorf("listen %s: socket mode %#o: %w", l.Addr, mode, err)
	}
	return nil
}

// Describe says how the listener authenticates, for the start-up log line.
func (l *Listener) Describe(s *Server) string {
	switch {
	case l.Addr.Scheme == "unix":
		fi, err := os.Stat(l.Addr.Path)
		mode := "abstract"
		if err == nil {
			mode = fmt.Sprintf("mode %#o", fi.Mode().Perm())
		}
		grp := "no group"
		if l.sockGID >= 0 {
			grp = "group " + strconv.Itoa(l.sockGID)
		}
		return fmt.Sprintf("%s, %s; allowed: %s", mode, grp, s.unixAllowText(l))
	case l.insecure:
		return "PLAIN TCP WITHOUT AUTHENTICATION (--insecure)"
	case l.tls != nil:
		var ways []string
		if s.cfg.TLSClientCA != "" {
			ways = append(ways, "client certificates of "+s.cfg.TLSClientCA)
		}
		if s.cfg.TokensFile != "" {
			ways = append(ways, "tokens of "+s.cfg.TokensFile)
		}
		return "TLS 1.3; clients prove themselves with " + strings.Join(ways, " or ")
	case l.Addr.Scheme == "vsock":
		if len(s.cfg.VsockAllow) == 0 {
			return "allowed guest CIDs: none (set vsock_allow)"
		}
		return "allowed guest CIDs: " + strings.Join(s.cfg.VsockAllow, ",")
	}
	return ""
}

// setupSecurity checks the configuration's TLS material and builds the TLS configuration.
func (s *Server) setupSecurity() error {
	hasTCP := false
	for _, a := range s.cfg.Listen {
		if pa, err := remoting.ParseAddr(a); err == nil && pa.Scheme == "tcp" {
			hasTCP = true
		}
	}
	if s.cfg.Insecure {
		if s.cfg.TLSCert != "" {
			return errors.New("both insecure and tls_cert are set: a tcp listener is either TLS or plain; drop one")
		}
		return nil
	}
	if s.cfg.TLSCert == "" && s.cfg.TLSKey == "" {
		if hasTCP {
			return errors.New("a tcp:// listener needs TLS: create the files with `vgpu-server pki init --dir /etc/vgpu/pki --host $(hostname)` " +
				"and set tls_cert, tls_key and tls_client_ca (or tokens_file) as it prints; or pass --insecure (config key insecure = 1) " +
				"to serve plain TCP without authentication, only on a network you trust")
		}
		return nil
	}
	if s.cfg.TLSCert == "" || s.cfg.TLSKey == "" {
		return errors.New("TLS needs both tls_cert and tls_key")
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("tls_cert/tls_key: %w", err)
	}
	// No session tickets: a resumed session gains nothing here (one connection a process), and a
	// ticket sent after the handshake would use a record the worker's state must account for.
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}
	cfg.GetConfigForClient = tlsConfigFor(cfg)
	if s.cfg.TLSClientCA == "" && s.cfg.TokensFile == "" {
		return errors.New("TLS clients need a way to prove who they are: set tls_client_ca (client certificates, `vgpu-server pki client NAME`) or tokens_file (`vgpu-server pki token NAME`), or both")
	}
	if s.cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(s.cfg.TLSClientCA)
		if err != nil {
			return fmt.Errorf("tls_client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls_client_ca %s: no PEM certificate in it", s.cfg.TLSClientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if s.cfg.TokensFile == "" {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	if s.cfg.TokensFile != "" {
		if _, err := s.tokens.get(s.cfg.TokensFile); err != nil {
			return fmt.Errorf("tokens_file: %w", err)
		}
	}
	s.tlsCfg = cfg
	return nil
}

// tokenCache is the tokens file, re-read when it changes (`vgpu-server pki token` appends).
type tokenCache struct {
	mu    sync.Mutex
	mtime time.Time
	size  int64
	toks  []remoting.Token
}

func (tc *tokenCache) get(path string) ([]remoting.Token, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.toks != nil && fi.ModTime().Equal(tc.mtime) && fi.Size() == tc.size {
		return tc.toks, nil
	}
	toks, err := remoting.ReadTokens(path)
	if err != nil {
		return nil, err
	}
	if toks == nil {
		toks = []remoting.Token{}
	}
	tc.toks, tc.mtime, tc.size = toks, fi.ModTime(), fi.Size()
	return toks, nil
}

// ---- unix and vsock allow lists ----

type unixRules struct {
	any        bool
	uids, gids []int
}

func parseUnixAllow(list []string) (unixRules, error) {
	var r unixRules
	for _, e := range list {
		if e == "*" {
			r.any = true
			continue
		}
		kind, v, ok := strings.Cut(e, ":")
		if !ok {
			return r, fmt.Errorf("unix_allow %q: want uid:N, user:NAME, gid:N, group:NAME or *", e)
		}
		switch kind {
		case "uid", "gid":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return r, fmt.Errorf("unix_allow %q: not a number", e)
			}
			if kind == "uid" {
				r.uids = append(r.uids, n)
			} else {
				r.gids = append(r.gids, n)
			}
		case "user":
			u, err := user.Lookup(v)
			if err != nil {
				return r, fmt.Errorf("unix_allow %q: %w", e, err)
			}
			n, _ := strconv.Atoi(u.Uid)
			r.uids = append(r.uids, n)
		case "group":
			g, err := user.LookupGroup(v)
			if err != nil {
				return r, fmt.Errorf("unix_allow %q: %w", e, err)
			}
			n, _ := strconv.Atoi(g.Gid)
			r.gids = append(r.gids, n)
		default:
			return r, fmt.Errorf("unix_allow %q: want uid:N, user:NAME, gid:N, group:NAME or *", e)
		}
	}
	return r, nil
}

// unixRulesFor is the allow list of listener l: the configured one, else root, the server's own
// uid and the socket's group.
func (s *Server) unixRulesFor(l *Listener) unixRules {
	if s.cfg.UnixAllow != nil {
		r, _ := parseUnixAllow(s.cfg.UnixAllow) // checked when the configuration was read
		return r
	}
	r := unixRules{uids: []int{0, os.Getuid()}}
	if l.sockGID >= 0 {
		r.gids = []int{l.sockGID}
	}
	return r
}

func (s *Server) unixAllowText(l *Listener) string {
	if s.cfg.UnixAllow != nil {
		if len(s.cfg.UnixAllow) == 0 {
			return "nobody (unix_allow is empty)"
		}
		return strings.Join(s.cfg.UnixAllow, ",")
	}
	t := fmt.Sprintf("root, uid %d", os.Getuid())
	if l.sockGID >= 0 {
		t += fmt.Sprintf(", members of group %d", l.sockGID)
	}
	return t
}

func (r unixRules) allows(cred *unix.Ucred) bool {
	if r.any || slices.Contains(r.uids, int(cred.Uid)) || slices.Contains(r.gids, int(cred.Gid)) {
		return true
	}
	if len(r.gids) == 0 {
		return false
	}
	u, err := user.LookupId(strconv.Itoa(int(cred.Uid)))
	if err != nil {
		return false
	}
	groups, err := u.GroupIds()
	if err != nil {
		return false
	}
	for _, g := range groups {
		if n, err := strconv.Atoi(g); err == nil && slices.Contains(r.gids, n) {
			return true
		}
	}
	return false
}

func (s *Server) vsockAllowed(cid uint32) bool {
	for _, x := range s.cfg.VsockAllow {
		if x == "*" || x == strconv.FormatUint(uint64(cid), 10) {
			return true
		}
	}
	return false
}

func peerCred(c net.Conn) (*unix.Ucred, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var gerr error
	if err := rc.Control(func(fd uintptr) { cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return nil, err
	}
	return cred, gerr
}

// ---- identities and claims in log lines ----

// sanitize escapes what could forge a log line or a command line argument: control
// characters, non-UTF-8 bytes, quotes and brackets.
func sanitize(s string) string {
	q := strconv.Quote(s)
	q = q[1 : len(q)-1]
	return strings.NewReplacer("[", `\x5b`, "]", `\x5d`).Replace(q)
}

// certIdentity is "cert:" and the subject's common name (else the whole subject).
func certIdentity(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "cert:CN=" + sanitize(c.Subject.CommonName)
	}
	return "cert:" + sanitize(c.Subject.String())
}

// claimAttrs are the claim as log attributes (JSON escapes them; the text format shows claim).
func claimAttrs(h *remoting.Hello) []any {
	return []any{slog.Group("claims", slog.Uint64("pid", uint64(h.PID)), slog.Uint64("uid", uint64(h.UID)), slog.String("host", h.Host), slog.String("exe", h.Exe))}
}

// claim is what the client says about itself, quoted: never trusted, never raw in a log line.
func claim(h *remoting.Hello) string {
	return fmt.Sprintf("pid %d, uid %d, host %s, exe %s", h.PID, h.UID, strconv.Quote(h.Host), strconv.Quote(h.Exe))
}

// ---- rate-limited refusal log ----

// refusalLog logs the first refusal of each kind at once and, under a flood, one summary line
// per kind and interval instead of a line per connection.
type refusalLog struct {
	mu         sync.Mutex
	interval   time.Duration
	last       map[string]time.Time
	suppressed map[string]int
	emit       func(string) // tests; nil: the log
}

func (r *refusalLog) print(attrs []any, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.emit != nil {
		r.emit(msg)
		return
	}
	logger.Warn(msg, attrs...)
}

// logf logs a line of kind (the attribute reason) with attributes attrs, unless a line of that
// kind was logged less than an interval ago.
func (r *refusalLog) logf(kind string, attrs []any, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last, r.suppressed = map[string]time.Time{}, map[string]int{}
	}
	now := time.Now()
	if last, ok := r.last[kind]; ok && now.Sub(last) < r.interval {
		r.suppressed[kind]++
		if r.suppressed[kind] == 1 {
			time.AfterFunc(r.interval-now.Sub(last), func() { r.flush(kind) })
		}
		return
	}
	r.last[kind] = now
	r.print(append(attrs, slog.String("reason", kind)), format, args...)
}

func (r *refusalLog) flush(kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.suppressed[kind]; n > 0 {
		r.print([]any{slog.String("reason", kind), slog.Int("count", n)}, "%d more connections refused in the last %v: %s (one line per %v under a flood)", n, r.interval, kind, r.interval)
		r.suppressed[kind] = 0
		r.last[kind] = time.Now()
	}
}

// ---- pending handshakes ----

type pending struct {
	c       net.Conn
	elem    *list.Element
	evicted atomic.Int32 // why it was told to stop: evictBusy, evictShutdown
}

const (
	evictBusy = iota + 1
	evictShutdown
)

// pendingSet holds the connections whose handshake is under way. When it is full, a new
// connection evicts the oldest: a flood of idle connections cannot lock out a client that
// completes its handshake promptly.
type pendingSet struct {
	mu   sync.Mutex
	list list.List
}

func (ps *pendingSet) add(c net.Conn, max int) (*pending, *pending) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var victim *pending
	if ps.list.Len() >= max {
		victim = ps.list.Remove(ps.list.Front()).(*pending)
		victim.elem = nil
		victim.stop(evictBusy)
	}
	p := &pending{c: c}
	p.elem = ps.list.PushBack(p)
	return p, victim
}

func (ps *pendingSet) remove(p *pending) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p.elem != nil {
		ps.list.Remove(p.elem)
		p.elem = nil
	}
}

func (ps *pendingSet) stopAll(why int32) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for e := ps.list.Front(); e != nil; e = e.Next() {
		e.Value.(*pending).stop(why)
	}
}

// stop makes the handshake's next (or current) read fail at once; its goroutine then tells the
// client why.
func (p *pending) stop(why int32) {
	p.evicted.CompareAndSwap(0, why)
	p.c.SetReadDeadline(time.Now())
}

// ---- accepting ----

// Serve accepts on l until it is closed. Each connection's handshake runs in its own
// goroutine. Running out of descriptors or memory is waited out (with a growing pause, logged),
// never a reason to stop serving everyone else.
func (s *Server) Serve(l *Listener) error {
	var pause time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.draining.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
				errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ECONNABORTED) {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				s.refusals.logf("accept:"+err.Error(), []any{slog.String("listener", l.Addr.String())}, "accept on %s: %v; retrying in %v", l.Addr, err, pause)
				time.Sleep(pause)
				continue
			}
			return err
		}
		pause = 0
		s.mu.Lock()
		if s.draining.Load() {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.hsWG.Add(1) // under s.mu: never after Shutdown's Wait began
		s.mu.Unlock()
		go func() {
			defer s.hsWG.Done()
			s.handle(c, l)
		}()
	}
}

// handshake is one connection on its way to becoming a session.
type handshake struct {
	s        *Server
	l        *Listener
	c        net.Conn      // the accepted connection
	rw       io.ReadWriter // c, or TLS over it
	tc       *tls.Conn
	p        *pending
	id       uint64
	identity string
	hello    remoting.Hello
	claimed  bool // hello decoded: log lines carry the claim
}

func (s *Server) handle(c net.Conn, l *Listener) {
	h := &handshake{s: s, l: l, c: c, rw: c, id: s.nextID.Add(1)}
	var victim *pending
	h.p, victim = s.pending.add(c, s.cfg.MaxPending)
	if victim != nil {
		s.refusals.logf("busy", nil, "%d connections are waiting for their handshake (max_pending_handshakes): closing the oldest to make room", s.cfg.MaxPending)
	}
	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	ok := h.run()
	s.pending.remove(h.p)
	if !ok {
		c.Close()
	}
}

// refuse tells the client why (an Error frame) and logs it, rate-limited by kind.
func (h *handshake) refuse(kind string, code remoting.ErrorCode, format string, args ...any) bool {
	msg := fmt.Sprintf(format, args...)
	who := h.identity
	if who == "" {
		who = h.c.RemoteAddr().String()
	}
	line := fmt.Sprintf("connection %d [%s] on %s refused: %s", h.id, sanitize(who), h.l.Addr, msg)
	attrs := []any{slog.Uint64("connection", h.id), slog.String("peer", sanitize(who)), slog.String("listener", h.l.Addr.String())}
	if h.claimed {
		line += "; the client claims " + claim(&h.hello)
		attrs = append(attrs, claimAttrs(&h.hello)...)
	}
	h.s.metrics.refused(kind)
	h.s.refusals.logf(kind, attrs, "%s", line)
	h.sendError(code, msg)
	return false
}

func (h *handshake) sendError(code remoting.ErrorCode, msg string) {
	p := remoting.AppendError(nil, &remoting.ErrorMsg{Code: code, Message: msg})
	b := remoting.AppendHeader(nil, remoting.Header{Length: uint32(len(p)), Type: remoting.FrameError})
	h.c.SetWriteDeadline(time.Now().Add(time.Second))
	h.rw.Write(append(b, p...))
}

// stopped reports a read that failed because the handshake was told to stop, and answers it.
func (h *handshake) stopped() (bool, bool) {
	switch h.p.evicted.Load() {
	case evictBusy:
		if h.l.tls != nil && h.tc == nil {
			h.s.metrics.refused("busy-client")
			return true, false // mid TLS handshake: nothing the client could read
		}
		return true, h.refuse("busy-client", remoting.ErrDenied, "the server has %d connections waiting for their handshake (max_pending_handshakes) and closed this, the oldest", h.s.cfg.MaxPending)
	case evictShutdown:
		return true, h.refuse("shutdown", remoting.ErrShutdown, "the server is shutting down")
	}
	return false, false
}

func (h *handshake) run() bool {
	s := h.s
	var cred *unix.Ucred
	switch {
	case h.l.Addr.Scheme == "unix":
		var err error
		if cred, err = peerCred(h.c); err != nil {
			logger.Error(fmt.Sprintf("connection %d on %s: SO_PEERCRED: %v", h.id, h.l.Addr, err), "connection", h.id, "listener", h.l.Addr.String())
			return false
		}
		h.identity = "uid:" + strconv.Itoa(int(cred.Uid))
	case h.l.Addr.Scheme == "vsock":
		ra, _ := h.c.RemoteAddr().(remoting.Addr)
		h.identity = "cid:" + strconv.FormatUint(uint64(ra.CID), 10)
	case h.l.insecure:
		host, _, _ := net.SplitHostPort(h.c.RemoteAddr().String())
		h.identity = "insecure:tcp " + host
	case h.l.tls != nil:
		rc := newRelayConn(h.c)
		h.c = rc
		tc := tls.Server(rc, h.l.tls)
		err := tc.Handshake()
		rc.capt.HandshakeDone()
		if err != nil {
			if stop, ok := h.stopped(); stop {
				return ok
			}
			var rhe tls.RecordHeaderError
			if errors.As(err, &rhe) && rhe.Conn != nil {
				// A plain client: it can read a plain Error frame.
				return h.refuse("plain-on-tls", remoting.ErrDenied, "this server speaks TLS on %s: unset VGPU_INSECURE and set VGPU_TLS_CA and VGPU_TOKEN_FILE (or VGPU_TLS_CERT and VGPU_TLS_KEY); see the README, \"Using it\"", h.l.Addr)
			}
			if errors.Is(err, io.EOF) {
				logger.Debug(fmt.Sprintf("connection %d on %s: closed before its TLS handshake (a health check)", h.id, h.l.Addr), "connection", h.id, "listener", h.l.Addr.String())
				return false
			}
			s.metrics.refused("tls")
			s.refusals.logf("tls", []any{slog.Uint64("connection", h.id), slog.String("peer", h.c.RemoteAddr().String()), slog.String("listener", h.l.Addr.String())},
				"connection %d from %s on %s: TLS handshake failed: %v", h.id, h.c.RemoteAddr(), h.l.Addr, err)
			return false
		}
		h.tc, h.rw = tc, tc
		if certs := h.tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			h.identity = certIdentity(certs[0]) // verified against tls_client_ca by the handshake
		}
	}

	payload, err := h.readHello()
	if err != nil {
		if stop, ok := h.stopped(); stop {
			return ok
		}
		if errors.Is(err, io.EOF) {
			logger.Debug(fmt.Sprintf("connection %d on %s: closed before its hello (a health check)", h.id, h.l.Addr), "connection", h.id, "listener", h.l.Addr.String())
			return false
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return h.refuse("timeout", remoting.ErrProtocol, "no hello within %v (handshake_timeout)", s.cfg.HandshakeTimeout)
		}
		var pe *remoting.ProtoError
		if errors.As(err, &pe) {
			return h.refuse("protocol", remoting.ErrProtocol, "%v", err)
		}
		s.refusals.logf("read", []any{slog.Uint64("connection", h.id), slog.String("listener", h.l.Addr.String())}, "connection %d on %s: reading its hello: %v", h.id, h.l.Addr, err)
		return false
	}
	if v := remoting.HelloVersion(payload); v != remoting.ProtocolVersion {
		return h.refuse("version", remoting.ErrVersion, "client speaks protocol %d, this server %d: use a client and server of one release", v, remoting.ProtocolVersion)
	}
	if h.hello, err = remoting.DecodeHello(payload); err != nil {
		return h.refuse("protocol", remoting.ErrProtocol, "bad hello: %v", err)
	}
	h.claimed = true
	if h.hello.TableHash != api.TableHash() {
		return h.refuse("version", remoting.ErrVersion, "client API table %#x differs from the server's %#x: use a client and server of one build", h.hello.TableHash, api.TableHash())
	}

	// Is this identity allowed?
	switch {
	case cred != nil:
		if !s.unixRulesFor(h.l).allows(cred) {
			return h.refuse("unix-allow", remoting.ErrDenied, "uid %d (gid %d) may not use this server: it is not in the allow list (%s; server config key unix_allow)", cred.Uid, cred.Gid, s.unixAllowText(h.l))
		}
		h.identity = fmt.Sprintf("uid:%d", cred.Uid)
	case h.l.Addr.Scheme == "vsock":
		ra, _ := h.c.RemoteAddr().(remoting.Addr)
		if !s.vsockAllowed(ra.CID) {
			return h.refuse("vsock-allow", remoting.ErrDenied, "guest CID %d may not use this server: it is not in vsock_allow", ra.CID)
		}
	case h.tc != nil && h.identity == "":
		if !h.checkToken() {
			return false
		}
	}
	return h.start(payload)
}

// readHello reads exactly one Hello frame from h.rw and nothing past it.
func (h *handshake) readHello() ([]byte, error) {
	var hdr [remoting.HeaderSize]byte
	if _, err := io.ReadFull(h.rw, hdr[:]); err != nil {
		return nil, err
	}
	if h.tc == nil && hdr[0] == 0x16 && hdr[1] == 3 {
		return nil, &remoting.ProtoError{Msg: fmt.Sprintf("a TLS handshake on %s, which speaks plain TCP (the server runs with insecure): the client must set VGPU_INSECURE=1", h.l.Addr)}
	}
	fh, err := remoting.ParseHeader(hdr[:])
	if err != nil {
		return nil, err
	}
	if fh.Type != remoting.FrameHello {
		return nil, &remoting.ProtoError{Msg: fmt.Sprintf("expected a hello frame, got %v", fh.Type)}
	}
	if fh.Length > maxHello {
		return nil, &remoting.ProtoError{Msg: fmt.Sprintf("hello of %d bytes, at most %d", fh.Length, maxHello)}
	}
	p := make([]byte, fh.Length)
	if _, err := io.ReadFull(h.rw, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return p, nil
}

// checkToken authenticates a TLS client without a certificate by its token proof.
func (h *handshake) checkToken() bool {
	s := h.s
	if h.hello.Token == "" {
		return h.refuse("no-credentials", remoting.ErrDenied, "this server requires a client certificate or a token: set VGPU_TOKEN_FILE (`vgpu-server pki token NAME` makes one) or VGPU_TLS_CERT and VGPU_TLS_KEY (`vgpu-server pki client NAME`)")
	}
	if s.cfg.TokensFile == "" {
		return h.refuse("token", remoting.ErrDenied, "this server accepts no tokens (no tokens_file): use a client certificate")
	}
	toks, err := s.tokens.get(s.cfg.TokensFile)
	if err != nil {
		logger.Error(fmt.Sprintf("tokens_file: %v", err))
		return h.refuse("token", remoting.ErrInternal, "the server cannot read its tokens file")
	}
	ok := false
	for _, t := range toks {
		if t.Name != h.hello.Token {
			continue
		}
		want, err := remoting.TokenProofOf(t.Name, t.Secret, h.tc.ConnectionState())
		ok = err == nil && hmac.Equal(want, h.hello.TokenProof)
	}
	if !ok {
		return h.refuse("token", remoting.ErrDenied, "token %s was not accepted: unknown name or wrong secret", strconv.Quote(h.hello.Token))
	}
	h.identity = "token:" + h.hello.Token // ValidTokenName: nothing to escape
	return true
}

// start applies the session limits and starts the worker.
func (h *handshake) start(payload []byte) bool {
	s := h.s
	if s.draining.Load() {
		return h.refuse("shutdown", remoting.ErrShutdown, "the server is shutting down")
	}
	limit := s.cfg.maxSessionsOf(h.identity)
	s.mu.Lock()
	switch {
	case s.sessions >= s.cfg.MaxSessions:
		n := s.sessions
		s.mu.Unlock()
		return h.refuse("max-sessions", remoting.ErrDenied, "the server has %d sessions, its limit (max_sessions): try again later", n)
	case s.perIdentity[h.identity] >= limit:
		n := s.perIdentity[h.identity]
		s.mu.Unlock()
		return h.refuse("max-per-identity", remoting.ErrDenied, "%s already has %d sessions, its limit (max_sessions_per_identity or limit[%s]): end one first", h.identity, n, h.identity)
	}
	s.sessions++
	s.perIdentity[h.identity]++
	// the shared memory the worker will page-lock, within max_pinned_shared_memory for all
	// sessions together; past it the session's stays pageable
	pin, noPin := h.hello.ShmSize, false
	if s.pinned+pin > s.cfg.MaxPinned {
		pin, noPin = 0, true
	}
	s.pinned += pin
	inUse := s.pinned
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		s.sessions--
		s.pinned -= pin
		if s.perIdentity[h.identity]--; s.perIdentity[h.identity] == 0 {
			delete(s.perIdentity, h.identity)
		}
		s.mu.Unlock()
	}
	pol := s.cfg.PolicyFor(h.identity)
	if noPin {
		pol.NoPin = true
		logger.Warn(fmt.Sprintf("its %d MiB of shared memory stay pageable: the sessions' page-locked shared memory is at %d MiB of max_pinned_shared_memory's %d MiB", h.hello.ShmSize>>20, inUse>>20, s.cfg.MaxPinned>>20),
			sessionAttrs(h.id, h.identity)...)
	}
	hello := h.hello
	hello.TokenProof = nil
	enc := base64.RawURLEncoding.EncodeToString(remoting.AppendHello(nil, &hello))
	h.c.SetDeadline(time.Time{})
	logger.Info(fmt.Sprintf("accepted on %s; the client claims %s", h.l.Addr, claim(&h.hello)),
		append(sessionAttrs(h.id, h.identity), append(claimAttrs(&h.hello), slog.String("listener", h.l.Addr.String()), slog.String("transport", h.l.transport()))...)...)
	if err := s.startWorker(h.id, h.c, h.tc, pol, enc, h.l.transport(), release); err != nil {
		release()
		s.metrics.refused("worker-start")
		logger.Error(fmt.Sprintf("cannot start a worker: %v", err), sessionAttrs(h.id, h.identity)...)
		h.sendError(remoting.ErrInternal, "the server cannot start a worker: "+err.Error())
		return false
	}
	return true
}

// connFile duplicates the descriptor of c for a worker.
func connFile(c net.Conn) (*os.File, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	return os.NewFile(uintptr(fd), "conn"), nil
}

// relayBuf is the size of each direction's buffer between a TLS connection and its worker.
const relayBuf = 256 << 10

// relayConn is the connection under a TLS session: during the handshake and the Hello, the
// accepted connection read through a remoting.TLSCapture (so the session can be handed to its
// worker, handTLSToWorker); for a session that stays with the server's relay, a blocking
// remoting.FDConn read and written on the relay's own threads, which polls briefly before a
// read blocks, as the client's and the worker's do.
type relayConn struct {
	net.Conn                      // the capture, over raw
	raw      net.Conn             // the accepted connection
	capt     *remoting.TLSCapture // the capture
	fc       *remoting.FDConn     // the relay's blocking connection, once blocking() was called
}

func newRelayConn(c net.Conn) *relayConn {
	capt := &remoting.TLSCapture{Conn: c}
	return &relayConn{Conn: capt, raw: c, capt: capt}
}

// endCapture ends the capture of a session that stays with the server's tls.Conn: its reads and
// writes then go to the accepted connection itself.
func (r *relayConn) endCapture() {
	r.capt.Stop()
	r.Conn = r.raw
}

// blocking moves the connection to an FDConn (a duplicate of its descriptor; the net.Conn is
// closed).
func (r *relayConn) blocking() error {
	fc, err := remoting.NewFDConn(r.raw)
	if err != nil {
		return err
	}
	r.fc = fc
	return nil
}

func (r *relayConn) Read(b []byte) (int, error) {
	if r.fc != nil {
		return r.fc.Read(b)
	}
	return r.Conn.Read(b)
}

func (r *relayConn) Write(b []byte) (int, error) {
	if r.fc != nil {
		return r.fc.Write(b)
	}
	return r.Conn.Write(b)
}

// Close also wakes a relay thread blocked reading it (shutdown before close).
func (r *relayConn) Close() error {
	if r.fc != nil {
		r.fc.Shutdown()
		return r.fc.Close()
	}
	return r.Conn.Close()
}

// tlsMode is how a TLS session's calls reach its worker (VGPU_TLS_RELAY in the server's
// environment): "worker" (the default) hands the session to the worker, which carries on its
// records on the TCP socket itself (remoting.RecordConn), so no hop through the server sits on a
// call's path; a session it cannot hand off (a suite other than AES-GCM) and the modes
// "blocking" and "netpoll" go through the server's relay, on blocking FDConns that poll before
// they block (the default relay on machines with remoting.SpinCores cores or more, where clients
// and workers poll too) or on the Go netpoller (the default relay on smaller machines, where
// pollers would take the CPU from each other).
var tlsMode = settings.TLSRelay.Get() // the settings package logs a bad value once

// blockingRelay says whether a relay uses blocking FDConns (tlsMode).
var blockingRelay = tlsMode == "blocking" || (tlsMode == "worker" && runtime.NumCPU() >= remoting.SpinCores)

// tlsConfigFor is the listener's TLS configuration for one handshake: the listener's, with the
// connection's key log, so the session's traffic secrets can go to its worker.
func tlsConfigFor(base *tls.Config) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	return func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		rc, ok := hi.Conn.(*relayConn)
		if !ok || tlsMode != "worker" {
			return nil, nil // the listener's own
		}
		cc := base.Clone()
		cc.GetConfigForClient = nil
		cc.KeyLogWriter = rc.capt.KeyLog()
		return cc, nil
	}
}

// relay copies between the client's TLS connection and the worker's end of a socket pair until
// either side ends; done is closed when both directions have stopped. Each direction is a
// goroutine; with blockingRelay both sides are FDConns, read and written by blocking system
// calls on that goroutine's thread.
func relay(tc *tls.Conn, rc *relayConn, wc *net.UnixConn) (done chan struct{}, err error) {
	var pc interface {
		io.ReadWriteCloser
		CloseWrite() error
	} = wc
	if blockingRelay {
		if err := rc.blocking(); err != nil {
			return nil, err
		}
		fc, err := remoting.NewFDConn(wc)
		if err != nil {
			return nil, err
		}
		pc = fc
	}
	done = make(chan struct{})
	up := make(chan struct{})
	go func() { // client -> worker
		defer close(up)
		buf := make([]byte, relayBuf)
		for {
			n, err := tc.Read(buf)
			if n > 0 {
				if _, werr := pc.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		pc.CloseWrite() // the worker sees the client's end
	}()
	go func() { // worker -> client
		defer close(done)
		buf := make([]byte, relayBuf)
		for {
			n, err := pc.Read(buf)
			if n > 0 {
				if _, werr := tc.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		tc.Close() // close_notify, then the client's read ends (and the other direction's)
		<-up
		pc.Close()
	}()
	return done, nil
}

// Shutdown drains the server: it stops accepting, tells the connections still in their
// handshake, lets sessions end on their own for up to drain, then ends the rest (each worker
// sends its client an ErrShutdown Error frame) and waits for every worker.
func (s *Server) Shutdown(drain time.Duration) {
	defer func() {
		s.mu.Lock()
		if s.metricsHTTP != nil {
			s.metricsHTTP.Close()
		}
		s.mu.Unlock()
	}()
	s.mu.Lock()
	s.draining.Store(true)
	ls := s.listeners
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	s.pending.stopAll(evictShutdown)
	done := make(chan struct{})
	go func() { s.hsWG.Wait(); s.wg.Wait(); close(done) }() // handshakes first: they may still add a worker
	if n := len(s.Workers()); n > 0 {
		logger.Info(fmt.Sprintf("draining: %d sessions may run for up to %v (drain_timeout)", n, drain), "sessions", n)
	}
	select {
	case <-done:
		return
	case <-time.After(drain):
	}
	s.mu.Lock()
	var left []string
	for pid, w := range s.workers {
		left = append(left, fmt.Sprintf("%d [%s]", w.id, w.identity))
		syscall.Kill(pid, syscall.SIGTERM)
	}
	s.mu.Unlock()
	logger.Warn(fmt.Sprintf("drain timeout (%v) passed: ending sessions %s; their clients are told the server is shutting down", drain, strings.Join(left, ", ")), "sessions", len(left))
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
	}
	s.mu.Lock()
	for pid, w := range s.workers {
		logger.Warn(fmt.Sprintf("worker %d did not end within 5 s of SIGTERM: killing it", pid), append(sessionAttrs(w.id, w.identity), "worker_pid", pid)...)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	s.mu.Unlock()
	<-done
}

// tlsStateFD is a worker's descriptor of its TLS session's state (`--tls-state`).
const tlsStateFD = 5

// handTLSToWorker takes the TLS session of rc from the server (tc is not used again): its state
// (remoting.TLSState: traffic secrets, sequence numbers) in a pipe the worker reads once at
// tlsStateFD. An error says why the session stays with the server's relay.
func handTLSToWorker(rc *relayConn, tc *tls.Conn) (*os.File, error) {
	st, err := rc.capt.Handoff(tc, false)
	rc.endCapture()
	if err != nil {
		return nil, err
	}
	b, _ := st.MarshalBinary()
	clear(st.ReadSecret)
	clear(st.WriteSecret)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	_, err = w.Write(b) // far less than a pipe holds
	clear(b)
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// readTLSState reads the state handTLSToWorker wrote (in the worker).
func readTLSState() (*remoting.TLSState, error) {
	f := os.NewFile(tlsStateFD, "tls-state")
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, err
	}
	var st remoting.TLSState
	err = st.UnmarshalBinary(b)
	clear(b)
	return &st, err
}
