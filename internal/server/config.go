package server

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// DefaultConfigFile is read when --config is not given, if it exists.
const DefaultConfigFile = "/etc/vgpu/server.conf"

// Config is the server's configuration: the defaults of Keys, then the config file, then the
// command line's flags (each key is also a flag: listen_x -> --listen-x).
type Config struct {
	Listen  []string
	Backend string // "real", "sim" or "auto"
	// WorkerExe is the binary re-executed for each session (default: this executable); not a key.
	WorkerExe string

	HandshakeTimeout time.Duration
	DrainTimeout     time.Duration
	Timeouts         Timeouts // each session's, after the handshake (0: the default)
	MaxPending       int
	MaxSessions      int
	MaxPerIdentity   int

	TLSCert, TLSKey string
	TLSClientCA     string
	TokensFile      string
	Insecure        bool

	SocketMode  os.FileMode // 0: the default (0660 with group vgpu if it exists, else 0600)
	SocketGroup string      // "": the default (vgpu if it exists)
	UnixAllow   []string    // nil: the default (root, the server's user, the socket's group)
	VsockAllow  []string    // CIDs or "*"; empty: every guest is refused

	MemLimit uint64   // per device, bytes; 0: no limit
	Devices  []string // visible devices; empty: all
	Limits   map[string]Limit
	// MaxPinned: the clients' shared memory the workers page-lock, all sessions together
	MaxPinned uint64

	MetricsListen string // host:port of the Prometheus endpoint; "": none
	LogFormat     string // LogText or LogJSON (log.go)
}

// Limit overrides the defaults for one identity (limit[IDENTITY] = ...).
type Limit struct {
	MemLimit    *uint64
	Devices     []string // nil: the default
	MaxSessions int      // 0: the default
}

// Key is one configuration key: its name in the file, the flag of the same name with '-' for
// '_', the kind of value, the default and what it means. Keys is the table docs are made from.
type Key struct {
	Name, Type, Default, Meaning string
	set                          func(c *Config, v string) error
}

// Keys lists every configuration key.
var Keys = []Key{
	{"listen", "address list", DefaultListen,
		"addresses to serve, comma-separated: unix:///path, unix:@name, tcp://host:port, vsock://cid:port (the flag is repeatable)",
		func(c *Config, v string) error {
			c.Listen = splitList(v)
			for _, a := range c.Listen {
				if _, err := remoting.ParseAddr(a); err != nil {
					return err
				}
			}
			return nil
		}},
	{"backend", "real|sim|auto", "auto", "real: the host's GPUs; sim: a simulated device; auto: real if a GPU works, else sim",
		func(c *Config, v string) error {
			switch v {
			case "real", "sim", "auto":
				c.Backend = v
				return nil
			}
			return fmt.Errorf("%q: want real, sim or auto", v)
		}},
	{"handshake_timeout", "duration", "10s", "a connection that has not completed its TLS handshake and Hello by then is closed, and a session whose client has not passed the shared memory its Hello announced this long after the Welcome is ended",
		durationSetter(func(c *Config) *time.Duration { return &c.HandshakeTimeout })},
	{"drain_timeout", "duration", "30s", "on SIGTERM: how long running sessions may go on before they are ended (the client is told why)",
		durationSetter(func(c *Config) *time.Duration { return &c.DrainTimeout })},
	{"idle_timeout", "duration", DefaultIdleTimeout.String(), "a session whose client sent nothing (not even a keepalive) for this long is ended; the client is told why",
		durationSetter(func(c *Config) *time.Duration { return &c.Timeouts.Idle })},
	{"frame_timeout", "duration", DefaultFrameTimeout.String(), "a frame's payload must have come this long after its header, or the session is ended",
		durationSetter(func(c *Config) *time.Duration { return &c.Timeouts.Frame })},
	{"keepalive", "duration", DefaultKeepalive.String(), "while a call runs longer than this, the worker sends the client a keepalive this often (keep it at most the clients' VGPU_KEEPALIVE_S)",
		durationSetter(func(c *Config) *time.Duration { return &c.Timeouts.Keepalive })},
	{"max_pending_handshakes", "count", "1024", "connections waiting for their handshake; when full, the oldest is closed to make room",
		intSetter(func(c *Config) *int { return &c.MaxPending })},
	{"max_sessions", "count", "256", "sessions (worker processes) at once; more are refused",
		intSetter(func(c *Config) *int { return &c.MaxSessions })},
	{"max_pinned_shared_memory", "size", "16GiB", "host memory the workers page-lock for their clients' shared memory (on unix sockets: each client's VGPU_SHM_MB and VGPU_PINNED_MB), all sessions together; a session that would pass it keeps its shared memory pageable (copies through it are staged by the driver, slower) and the log says so (0: the default)",
		func(c *Config, v string) error {
			n, err := parseSize(v)
			c.MaxPinned = n
			return err
		}},
	{"max_sessions_per_identity", "count", "64", "sessions at once of one identity (uid:1000, token:ci, ...); more are refused",
		intSetter(func(c *Config) *int { return &c.MaxPerIdentity })},
	{"tls_cert", "file", "", "the server's certificate (PEM) for tcp:// listeners; `vgpu-server pki init` makes one",
		func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{"tls_key", "file", "", "the server certificate's private key (PEM)",
		func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{"tls_client_ca", "file", "", "CA certificate(s) (PEM) that sign client certificates; a client presenting one is cert:CN=<its name>",
		func(c *Config, v string) error { c.TLSClientCA = v; return nil }},
	{"tokens_file", "file", "", "the tokens clients may prove over TLS: lines \"NAME SECRET\" (hex), mode 0600; a client is token:NAME; re-read when it changes",
		func(c *Config, v string) error { c.TokensFile = v; return nil }},
	{"insecure", "bool", "false", "serve tcp:// listeners as plain TCP without authentication (identity insecure:tcp ADDRESS); only on a network you trust",
		func(c *Config, v string) error {
			b, err := settings.ParseBool(v)
			c.Insecure = b
			return err
		}},
	{"socket_mode", "octal mode", "0660 with group vgpu, else 0600", "permissions of unix socket files",
		func(c *Config, v string) error {
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m > 0o777 || m == 0 {
				return fmt.Errorf("%q: want an octal mode such as 0660", v)
			}
			c.SocketMode = os.FileMode(m)
			return nil
		}},
	{"socket_group", "group", "vgpu if it exists", "group (name or number) of unix socket files",
		func(c *Config, v string) error { c.SocketGroup = v; return nil }},
	{"unix_allow", "list", "root, the server's own user, members of the socket's group",
		"who may use unix sockets, by the kernel's SO_PEERCRED: uid:N, user:NAME, gid:N, group:NAME, or * for anyone (replaces the default)",
		func(c *Config, v string) error {
			c.UnixAllow = splitList(v)
			if c.UnixAllow == nil {
				c.UnixAllow = []string{}
			}
			_, err := parseUnixAllow(c.UnixAllow)
			return err
		}},
	{"vsock_allow", "list", "(none)", "guest CIDs that may use vsock listeners (the kernel's peer address), or * for any guest",
		func(c *Config, v string) error {
			c.VsockAllow = splitList(v)
			for _, x := range c.VsockAllow {
				if _, err := strconv.ParseUint(x, 10, 32); err != nil && x != "*" {
					return fmt.Errorf("%q: want CIDs (numbers) or *", x)
				}
			}
			return nil
		}},
	{"mem_limit", "size", "0 (none)", "device memory each session may hold on each device: 16GiB, 512MiB, a byte count",
		func(c *Config, v string) error {
			n, err := parseSize(v)
			c.MemLimit = n
			return err
		}},
	{"devices", "list", "(all)", "host GPUs a session sees, by index or UUID, comma-separated",
		func(c *Config, v string) error { c.Devices = splitList(v); return nil }},
	{"metrics_listen", "host:port", "", "serve Prometheus metrics at http://HOST:PORT/metrics (plain HTTP, no authentication: bind it to localhost or a trusted network; it shows counts, no GPU data); empty: off",
		func(c *Config, v string) error {
			if v == "" {
				c.MetricsListen = ""
				return nil
			}
			host, port, err := net.SplitHostPort(v)
			if err != nil {
				return fmt.Errorf("%q: want host:port such as 127.0.0.1:9400", v)
			}
			if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
				return fmt.Errorf("%q: port %q: want a number from 1 to 65535", v, port)
			}
			if strings.ContainsAny(host, "/ ") {
				return fmt.Errorf("%q: want host:port such as 127.0.0.1:9400", v)
			}
			c.MetricsListen = v
			return nil
		}},
	{"log_format", "text|json", LogText, "the server's and its workers' log lines on stderr: text (human lines) or json (one JSON object per line: time, level, msg, session, identity, ...)",
		func(c *Config, v string) error {
			switch v {
			case LogText, LogJSON:
				c.LogFormat = v
				return nil
			}
			return fmt.Errorf("%q: want text or json", v)
		}},
	{"limit[IDENTITY]", "settings", "", "for one identity: mem_limit=SIZE devices=LIST max_sessions=N (each optional), e.g. limit[uid:1000] = mem_limit=8GiB devices=0",
		nil},
}

// DefaultListen is the listen key's default.
const DefaultListen = remoting.DefaultServer

func durationSetter(f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q: want a positive duration such as 10s", v)
		}
		*f(c) = d
		return nil
	}
}

func intSetter(f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: want a number of at least 1", v)
		}
		*f(c) = n
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		out = append(out, f)
	}
	return out
}

// parseSize reads a byte count: a number with an optional unit B, KiB, MiB, GiB, TiB (K, M, G,
// T and KB, MB, GB, TB are read as the same powers of 1024).
func parseSize(v string) (uint64, error) {
	s := strings.TrimSpace(v)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(s[:i]), strings.ToLower(strings.TrimSpace(s[i:]))
	shift := map[string]uint{"": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20,
		"g": 30, "gb": 30, "gib": 30, "t": 40, "tb": 40, "tib": 40}
	sh, ok := shift[unit]
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || n > (^uint64(0))>>sh {
		return 0, fmt.Errorf("%q: want a size such as 16GiB, 512MiB or a byte count", v)
	}
	return n << sh, nil
}

func parseLimit(v string) (Limit, error) {
	var l Limit
	for _, f := range strings.Fields(v) {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return l, fmt.Errorf("%q: want key=value settings (mem_limit=, devices=, max_sessions=)", f)
		}
		switch k {
		case "mem_limit":
			n, err := parseSize(val)
			if err != nil {
				return l, err
			}
			l.MemLimit = &n
		case "devices":
			l.Devices = splitList(val)
			if l.Devices == nil {
				l.Devices = []string{}
			}
		case "max_sessions":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return l, fmt.Errorf("max_sessions=%q: want a number of at least 1", val)
			}
			l.MaxSessions = n
		default:
			return l, fmt.Errorf("unknown setting %q (want mem_limit, devices, max_sessions)", k)
		}
	}
	return l, nil
}

// DefaultConfig is the configuration of the keys' defaults.
func DefaultConfig() Config {
	c := Config{Limits: map[string]Limit{}}
	for _, k := range Keys {
		if k.set == nil || k.Default == "" || strings.ContainsAny(k.Default, " ()") {
			continue // no value, or a default that depends on the host
		}
		if err := k.set(&c, k.Default); err != nil {
			panic(fmt.Sprintf("default of %s: %v", k.Name, err))
		}
	}
	return c
}

func findKey(name string) *Key {
	for i := range Keys {
		if Keys[i].Name == name && Keys[i].set != nil {
			return &Keys[i]
		}
	}
	return nil
}

// ApplyFile reads a server config file into c: lines "key = value", '#' comments, blank lines;
// limit[IDENTITY] = settings. It is strict: an unknown key, a key given twice or a bad value is
// an error naming the file, line and key.
func (c *Config) ApplyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		if text = strings.TrimSpace(text); text == "" {
			continue
		}
		var key, value string
		if rest, ok := strings.CutPrefix(text, "limit["); ok {
			id, after, ok := strings.Cut(rest, "]")
			after = strings.TrimSpace(after)
			if !ok || id == "" || !strings.HasPrefix(after, "=") {
				return fmt.Errorf("%s:%d: want \"limit[IDENTITY] = settings\"", path, line)
			}
			key, value = "limit["+id+"]", strings.TrimSpace(after[1:])
		} else {
			k, v, ok := strings.Cut(text, "=")
			key, value = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || key == "" {
				return fmt.Errorf("%s:%d: want \"key = value\"", path, line)
			}
		}
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("%s:%d: key %q is already set on line %d", path, line, key, prev)
		}
		seen[key] = line
		if err := c.Set(key, value); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Set sets one key (as named in the file).
func (c *Config) Set(key, value string) error {
	if id, ok := strings.CutPrefix(key, "limit["); ok && strings.HasSuffix(id, "]") {
		id = strings.TrimSuffix(id, "]")
		l, err := parseLimit(value)
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		if c.Limits == nil {
			c.Limits = map[string]Limit{}
		}
		c.Limits[id] = l
		return nil
	}
	k := findKey(key)
	if k == nil {
		return fmt.Errorf("unknown key %q (known: %s)", key, strings.Join(keyNames(), ", "))
	}
	if err := k.set(c, value); err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	return nil
}

func keyNames() []string {
	var n []string
	for _, k := range Keys {
		n = append(n, k.Name)
	}
	sort.Strings(n)
	return n
}

// flagValue collects a key's flag values; bool keys take no argument.
type flagValue struct {
	key    string
	isBool bool
	vals   []string
}

func (f *flagValue) String() string     { return strings.Join(f.vals, ",") }
func (f *flagValue) Set(v string) error { f.vals = append(f.vals, v); return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

// LoadConfig builds the configuration from the command line args: the file named by --config
// (else DefaultConfigFile if it exists), then every key given as a flag (--listen may repeat).
func LoadConfig(args []string) (Config, error) {
	fset := flag.NewFlagSet("vgpu-server", flag.ContinueOnError)
	fset.Usage = func() {
		fmt.Fprintf(fset.Output(), "usage: vgpu-server [--config FILE] [--KEY VALUE ...]\n       vgpu-server pki init|client|token ... (see vgpu-server pki --help)\n\nKeys (config file key = value; flag --key with '-' for '_'):\n")
		for _, k := range Keys {
			def := k.Default
			if def == "" {
				def = "(none)"
			}
			fmt.Fprintf(fset.Output(), "  %-27s %s, default %s\n      %s\n", k.Name, k.Type, def, k.Meaning)
		}
	}
	configPath := fset.String("config", "", "the server config file (default "+DefaultConfigFile+" if it exists)")
	var flags []*flagValue
	for _, k := range Keys {
		if k.set == nil {
			continue
		}
		v := &flagValue{key: k.Name, isBool: k.Type == "bool"}
		flags = append(flags, v)
		fset.Var(v, strings.ReplaceAll(k.Name, "_", "-"), k.Meaning)
	}
	if err := fset.Parse(args); err != nil {
		return Config{}, err
	}
	if fset.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (flags are --key value)", fset.Arg(0))
	}
	c := DefaultConfig()
	path := *configPath
	if err := c.ApplyFile(firstNonEmpty(path, DefaultConfigFile)); err != nil {
		if path != "" || !errors.Is(err, fs.ErrNotExist) {
			return Config{}, err
		}
	}
	for _, v := range flags {
		if len(v.vals) == 0 {
			continue
		}
		if err := c.Set(v.key, strings.Join(v.vals, ",")); err != nil {
			return Config{}, fmt.Errorf("--%s: %w", strings.ReplaceAll(v.key, "_", "-"), err)
		}
	}
	return c, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// PolicyFor is what the configuration grants identity id.
func (c *Config) PolicyFor(id string) Policy {
	p := Policy{Identity: id, MemLimit: c.MemLimit, Devices: c.Devices}
	if l, ok := c.Limits[id]; ok {
		if l.MemLimit != nil {
			p.MemLimit = *l.MemLimit
		}
		if l.Devices != nil {
			p.Devices = l.Devices
		}
	}
	return p
}

// maxSessionsOf is identity id's session limit.
func (c *Config) maxSessionsOf(id string) int {
	if l, ok := c.Limits[id]; ok && l.MaxSessions > 0 {
		return l.MaxSessions
	}
	return c.MaxPerIdentity
}
