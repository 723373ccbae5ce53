package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConf(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigDefaults: every key with a fixed default parses, and the defaults are the documented ones.
func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.HandshakeTimeout != 10*time.Second || c.DrainTimeout != 30*time.Second || c.MaxPending != 1024 ||
		c.MaxSessions != 256 || c.MaxPerIdentity != 64 || c.Backend != "auto" || c.Insecure ||
		c.Timeouts != (Timeouts{Idle: 10 * time.Minute, Frame: 30 * time.Second, Keepalive: 15 * time.Second}) ||
		!reflect.DeepEqual(c.Listen, []string{DefaultListen}) || c.UnixAllow != nil || c.VsockAllow != nil ||
		c.MetricsListen != "" || c.LogFormat != LogText {
		t.Fatalf("defaults %+v", c)
	}
	for _, k := range Keys {
		if k.Name == "" || k.Type == "" || k.Meaning == "" {
			t.Errorf("key %+v: undocumented", k)
		}
	}
}

// TestKeysDocumented: every key is in README.md's server configuration and in the packages'
// example server.conf (packaging/files/server.conf), as "KEY =" or `KEY`.
func TestKeysDocumented(t *testing.T) {
	for _, doc := range []string{"../../README.md", "../../packaging/files/server.conf"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range Keys {
			name := strings.TrimSuffix(k.Name, "IDENTITY]")
			if !strings.Contains(string(b), name+" =") && !strings.Contains(string(b), name+"uid:") && !strings.Contains(string(b), "`"+name+"`") {
				t.Errorf("%s does not name the server key %s", doc, k.Name)
			}
		}
	}
}

// TestConfigFile: the file's keys, limit[IDENTITY] lines and comments; flags override the file.
func TestConfigFile(t *testing.T) {
	p := writeConf(t, `# vgpu-server
listen = unix:///run/vgpu/vgpu.sock, tcp://0.0.0.0:7070
insecure = yes          # a trusted network
handshake_timeout = 3s
mem_limit = 16GiB
devices = 0,1
unix_allow = uid:1000, gid:27, *
limit[cert:CN=alice] = mem_limit=8GiB devices=GPU-abc max_sessions=2
limit[uid:1000] = devices=
metrics_listen = 127.0.0.1:9400
log_format = json
`)
	c, err := LoadConfig([]string{"--config", p, "--handshake-timeout", "5s", "--listen", "unix:@x", "--listen", "tcp://:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Insecure || c.HandshakeTimeout != 5*time.Second || c.MemLimit != 16<<30 || c.MetricsListen != "127.0.0.1:9400" || c.LogFormat != LogJSON ||
		!reflect.DeepEqual(c.Listen, []string{"unix:@x", "tcp://:1"}) || !reflect.DeepEqual(c.UnixAllow, []string{"uid:1000", "gid:27", "*"}) {
		t.Fatalf("config %+v", c)
	}
	alice := c.PolicyFor("cert:CN=alice")
	if alice.MemLimit != 8<<30 || !reflect.DeepEqual(alice.Devices, []string{"GPU-abc"}) || c.maxSessionsOf("cert:CN=alice") != 2 {
		t.Errorf("alice: %+v, max %d", alice, c.maxSessionsOf("cert:CN=alice"))
	}
	if u := c.PolicyFor("uid:1000"); u.MemLimit != 16<<30 || len(u.Devices) != 0 {
		t.Errorf("uid:1000 (devices= clears the default): %+v", u)
	}
	if o := c.PolicyFor("token:ci"); o.MemLimit != 16<<30 || !reflect.DeepEqual(o.Devices, []string{"0", "1"}) || c.maxSessionsOf("token:ci") != 64 {
		t.Errorf("token:ci gets the defaults: %+v", o)
	}
}

// TestConfigStrict: unknown keys, bad values and repeated keys are errors naming file, line and key.
func TestConfigStrict(t *testing.T) {
	for _, c := range []struct{ content, want string }{
		{"max_sesions = 4", `:1: unknown key "max_sesions"`},
		{"\n\nbackend = gpu", `:3: key "backend": "gpu": want real, sim or auto`},
		{"max_sessions = 0", `:1: key "max_sessions": "0": want a number of at least 1`},
		{"socket_mode = 999", `:1: key "socket_mode"`},
		{"mem_limit = 3 parsecs", `:1: key "mem_limit"`},
		{"insecure = maybe", `:1: key "insecure"`},
		{"listen = ftp://x", `:1: key "listen"`},
		{"unix_allow = bob", `:1: key "unix_allow"`},
		{"vsock_allow = three", `:1: key "vsock_allow"`},
		{"limit[uid:1] = gpus=2", `:1: key "limit[uid:1]": unknown setting "gpus"`},
		{"limit[uid:1 = mem_limit=1", `:1: want "limit[IDENTITY] = settings"`},
		{"just words", `:1: want "key = value"`},
		{"backend = sim\nbackend = real", `:2: key "backend" is already set on line 1`},
		{"metrics_listen = 9400", `:1: key "metrics_listen": "9400": want host:port`},
		{"metrics_listen = localhost:http", `:1: key "metrics_listen": "localhost:http": port "http"`},
		{"metrics_listen = 127.0.0.1:70000", `:1: key "metrics_listen"`},
		{"metrics_listen = http://127.0.0.1:9400/metrics", `:1: key "metrics_listen"`},
		{"log_format = logfmt", `:1: key "log_format": "logfmt": want text or json`},
		{"metrics-listen = :9400", `:1: unknown key "metrics-listen"`},
	} {
		p := writeConf(t, c.content)
		_, err := LoadConfig([]string{"--config", p})
		if err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%q: got %v, want %q", c.content, err, p+c.want)
		}
	}
	if _, err := LoadConfig([]string{"--max-sessions", "none"}); err == nil || !strings.Contains(err.Error(), "--max-sessions") {
		t.Errorf("a bad flag value: %v", err)
	}
	if _, err := LoadConfig([]string{"--metrics-listen", "nowhere"}); err == nil || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("a bad --metrics-listen: %v", err)
	}
	if c, err := LoadConfig([]string{"--metrics-listen", "[::1]:9400", "--log-format", "json"}); err != nil || c.MetricsListen != "[::1]:9400" || c.LogFormat != LogJSON {
		t.Errorf("--metrics-listen [::1]:9400 --log-format json: %+v, %v", c, err)
	}
	if _, err := LoadConfig([]string{"--config", filepath.Join(t.TempDir(), "absent.conf")}); err == nil {
		t.Error("a missing --config file is not an error")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "4096": 4096, "16GiB": 16 << 30, "512 MiB": 512 << 20, "2g": 2 << 30, "1TB": 1 << 40, "3KiB": 3 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "1.5GiB", "99999999999TiB", "4 lightyears"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

// TestSanitize: identities and claims cannot carry control characters or brackets into a log line.
func TestSanitize(t *testing.T) {
	if got := sanitize("alice\n[uid:0]\x1b[31m"); got != `alice\n\x5buid:0\x5d\x1b\x5b31m` {
		t.Errorf("sanitize: %q", got)
	}
}

// TestRefusalLogAggregates: under a flood, one line for the first refusal and one summary.
func TestRefusalLogAggregates(t *testing.T) {
	r := refusalLog{interval: 100 * time.Millisecond}
	var lines []string
	r.emit = func(s string) { lines = append(lines, s) }
	for i := 0; i < 1000; i++ {
		r.logf("busy", nil, "refused %d", i)
	}
	time.Sleep(300 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(lines) != 2 || lines[0] != "refused 0" || !strings.HasPrefix(lines[1], "999 more connections refused") {
		t.Fatalf("lines %q", lines)
	}
}
