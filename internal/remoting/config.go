package remoting

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/vgpu/vgpu/internal/settings"
)

// DefaultServer is the server address used when nothing else names one.
const DefaultServer = settings.DefaultServer

// systemConfig is the system-wide config file; a variable for tests.
var systemConfig = settings.ConfigFile

// ServerAddress returns the address of the server the client should use and
// where it came from ("env VGPU_SERVER", "<file> (VGPU_CONFIG)", "<file>" or
// "default"). It consults, in order: the environment variable VGPU_SERVER;
// the key "server" of the file named by VGPU_CONFIG (which must exist); the
// key "server" of /etc/vgpu/vgpu.conf (if it exists); DefaultServer. The
// value may be a comma-separated list of addresses (SplitServers); each is
// checked with ParseAddr, and addr is the value as written.
func ServerAddress() (addr string, source string, err error) {
	return ServerAddressIn(os.Getenv)
}

// ServerAddressIn is ServerAddress in the environment getenv reads (`vgpu doctor` checks an
// environment that need not be its own).
func ServerAddressIn(getenv func(string) string) (addr string, source string, err error) {
	addr, source, err = serverAddress(getenv)
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
	addr, source, err := serverAddress(os.Getenv)
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

func serverAddress(getenv func(string) string) (string, string, error) {
	if v := settings.Server.RawIn(getenv); v != "" {
		return v, "env VGPU_SERVER", nil
	}
	files, err := clientConfigs(getenv)
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
func clientConfigs(getenv func(string) string) ([]configFile, error) {
	var files []configFile
	if path := settings.Config.RawIn(getenv); path != "" {
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

// ClientConfigKeys is every key the client config file may hold: the Key of each
// internal/settings variable that has one (the variable, when set, wins over it). To add a
// key, give its variable a Key there.
var ClientConfigKeys = settings.ConfigKeys()

// ReadConfigFile reads a client config file: lines "key = value"; '#' starts a comment that
// runs to the end of the line; blank lines are ignored; spaces around keys and values are
// trimmed; a later key overrides an earlier one. A key not in ClientConfigKeys is an error
// naming the key, the file and the line (a typo must not fall back to a default silently).
func ReadConfigFile(path string) (map[string]string, error) {
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
		if !slices.Contains(ClientConfigKeys, key) {
			return nil, fmt.Errorf("%s:%d: unknown key %q (known keys: %s)", path, line, key, strings.Join(ClientConfigKeys, ", "))
		}
		cfg[key] = strings.TrimSpace(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
