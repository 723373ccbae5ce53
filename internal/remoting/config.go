package remoting

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// DefaultServer is the server address used when nothing else names one.
const DefaultServer = "unix:///run/vgpu/vgpu.sock"

// systemConfig is the system-wide config file; a variable for tests.
var systemConfig = "/etc/vgpu/vgpu.conf"

// ServerAddress returns the address of the server the client should use and
// where it came from ("env VGPU_SERVER", "<file> (VGPU_CONFIG)", "<file>" or
// "default"). It consults, in order: the environment variable VGPU_SERVER;
// the key "server" of the file named by VGPU_CONFIG (which must exist); the
// key "server" of /etc/vgpu/vgpu.conf (if it exists); DefaultServer. The
// value may be a comma-separated list of addresses (SplitServers); each is
// checked with ParseAddr, and addr is the value as written.
func ServerAddress() (addr string, source string, err error) {
	addr, source, err = serverAddress()
	if err == nil {
		_, err = SplitServers(addr, source)
	}
	if err != nil {
		return "", "", err
	}
	return addr, source, nil
}

// ServerAddresses is ServerAddress split into its addresses, in the order given: one address
// for one server, several when one client sees the GPUs of several servers as one device list
// (the first server's devices first).
func ServerAddresses() (addrs []string, source string, err error) {
	addr, source, err := serverAddress()
	if err != nil {
		return nil, "", err
	}
	if addrs, err = SplitServers(addr, source); err != nil {
		return nil, "", err
	}
	return addrs, source, nil
}

// MaxServers bounds the addresses of one list (the client tags each server's handles with its
// position in 7 bits).
const MaxServers = 16

// SplitServers splits a server value at its commas and checks each address with ParseAddr;
// source names where the value came from, for the error.
func SplitServers(v, source string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		if _, err := ParseAddr(a); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) > MaxServers {
		return nil, fmt.Errorf("%s: %d server addresses, at most %d", source, len(addrs), MaxServers)
	}
	return addrs, nil
}

func serverAddress() (string, string, error) {
	if v := os.Getenv("VGPU_SERVER"); v != "" {
		return strings.TrimSpace(v), "env VGPU_SERVER", nil
	}
	files, err := clientConfigs()
	if err != nil {
		return "", "", err
	}
	for _, f := range files {
		if v, ok := f.keys["server"]; ok {
			return v, f.source, nil
		}
	}
	return DefaultServer, "default", nil
}

type configFile struct {
	path, source string
	keys         map[string]string
}

// clientConfigs reads the client config files in the order they are consulted: the one
// VGPU_CONFIG names (which must exist), then /etc/vgpu/vgpu.conf if it exists.
func clientConfigs() ([]configFile, error) {
	var files []configFile
	if path := os.Getenv("VGPU_CONFIG"); path != "" {
		cfg, err := ReadConfigFile(path)
		if err != nil {
			return nil, fmt.Errorf("VGPU_CONFIG: %w", err)
		}
		files = append(files, configFile{path, path + " (VGPU_CONFIG)", cfg})
	}
	cfg, err := ReadConfigFile(systemConfig)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		files = append(files, configFile{systemConfig, systemConfig, cfg})
	}
	return files, nil
}

// ConfigKey is one key of the client config file (/etc/vgpu/vgpu.conf or VGPU_CONFIG).
type ConfigKey struct {
	Name    string
	Meaning string
	Default string
}

// ClientConfigKeys is every key the client config file may hold: ReadConfigFile refuses any
// other, and the README's table of them is checked against this one (TestREADMEConfigTable).
// To add a key, add a row here and to the README's table.
var ClientConfigKeys = []ConfigKey{
	{Name: "server", Meaning: "the vgpu-server address: unix:///path, tcp://host:port or vsock://cid:port, or a comma-separated list of them whose GPUs the client shows as one device list (VGPU_SERVER overrides it)", Default: DefaultServer},
	{Name: "tls_ca", Meaning: "the CA that signed the server's certificate, a PEM file (VGPU_TLS_CA)", Default: "the system's CAs"},
	{Name: "tls_cert", Meaning: "this client's certificate, a PEM file, with tls_key (VGPU_TLS_CERT)", Default: "none"},
	{Name: "tls_key", Meaning: "the key of tls_cert, a PEM file (VGPU_TLS_KEY)", Default: "none"},
	{Name: "token_file", Meaning: "a token file, one line NAME SECRET, mode 0600 (VGPU_TOKEN_FILE)", Default: "none"},
	{Name: "tls_server_name", Meaning: "the name to expect in the server's certificate (VGPU_TLS_SERVER_NAME)", Default: "the address's host"},
	{Name: "insecure", Meaning: "1: speak plain TCP to a server run with --insecure (VGPU_INSECURE)", Default: "0"},
}

// ReadConfigFile reads a client config file (ClientConfigKeys): see ReadConfigFileKeys.
func ReadConfigFile(path string) (map[string]string, error) {
	return ReadConfigFileKeys(path, ClientConfigKeys)
}

// ReadConfigFileKeys reads a vgpu config file: lines "key = value"; '#' starts a comment that
// runs to the end of the line; blank lines are ignored; spaces around keys and values are
// trimmed; a later key overrides an earlier one. A key not in known is an error naming the key,
// the file and the line (a typo must not fall back to a default silently).
func ReadConfigFileKeys(path string, known []ConfigKey) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		if text = strings.TrimSpace(text); text == "" {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("%s:%d: want \"key = value\"", path, line)
		}
		if !slices.ContainsFunc(known, func(k ConfigKey) bool { return k.Name == key }) {
			var names []string
			for _, k := range known {
				names = append(names, k.Name)
			}
			return nil, fmt.Errorf("%s:%d: unknown key %q (known keys: %s)", path, line, key, strings.Join(names, ", "))
		}
		cfg[key] = strings.TrimSpace(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
