package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vgpu/vgpu/internal/remoting"
)

// A Container Device Interface spec (github.com/cncf-tags/container-device-interface, SPEC.md):
// what docker, podman and containerd apply to a container started with --device vgpu.dev/gpu=all.
// Only the fields vgpu uses; packaging/ validates the output with the CDI project's own library.
type cdiSpec struct {
	Version string      `json:"cdiVersion"`
	Kind    string      `json:"kind"`
	Devices []cdiDevice `json:"devices"`
}

type cdiDevice struct {
	Name           string   `json:"name"`
	ContainerEdits cdiEdits `json:"containerEdits"`
}

type cdiEdits struct {
	Env            []string   `json:"env,omitempty"`
	Mounts         []cdiMount `json:"mounts,omitempty"`
	AdditionalGIDs []uint32   `json:"additionalGids,omitempty"`
}

type cdiMount struct {
	HostPath      string   `json:"hostPath"`
	ContainerPath string   `json:"containerPath"`
	Options       []string `json:"options,omitempty"`
}

const (
	// CDIKind is the CDI kind of vgpu's device ("vendor/class"); the device is named "all".
	CDIKind = "vgpu.dev/gpu"
	// CDIVersion is the spec version written: 0.7.0 is the first with additionalGids.
	CDIVersion = "0.7.0"
	// ContainerLibDir is where the client folder appears inside the container.
	ContainerLibDir = "/opt/vgpu"
)

// CDIOptions says what the spec gives the container.
type CDIOptions struct {
	Root   string // the host's root ("/"; a scratch tree in tests)
	LibDir string // the client folder on the host
	Server string // the address; "" reads the host's client config, else the default socket
}

// CDISpec is the spec's JSON (JSON is YAML too: save it as /etc/cdi/vgpu.json). The container
// gets the client folder read-only at /opt/vgpu and LD_PRELOAD naming it; for a unix socket
// the server's socket folder (not the socket file: a restarted server makes a new one), the
// address and, when the host has group vgpu, that group; for tcp or vsock the address alone.
// The host's /etc/vgpu/vgpu.conf is mounted when it exists.
func CDISpec(o CDIOptions) ([]byte, error) {
	if o.Root == "" {
		o.Root = "/"
	}
	server := o.Server
	if server == "" {
		server = remoting.DefaultServer
		if cfg, err := remoting.ReadConfigFile(filepath.Join(o.Root, ConfigFile)); err == nil {
			if v, ok := cfg["server"]; ok {
				server = v
			}
		} else if !os.IsNotExist(err) {
			return nil, err
		}
	}
	a, err := remoting.ParseAddr(server)
	if err != nil {
		return nil, fmt.Errorf("server address %q: %w", server, err)
	}
	ro := []string{"ro", "nosuid", "nodev", "bind"}
	e := cdiEdits{
		Env:    []string{"LD_PRELOAD=" + PreloadList(ContainerLibDir), "VGPU_SERVER=" + server},
		Mounts: []cdiMount{{HostPath: o.LibDir, ContainerPath: ContainerLibDir, Options: ro}},
	}
	if _, err := os.Stat(filepath.Join(o.Root, ConfigFile)); err == nil {
		e.Mounts = append(e.Mounts, cdiMount{HostPath: ConfigFile, ContainerPath: ConfigFile, Options: ro})
	}
	if a.Scheme == "unix" {
		if strings.HasPrefix(a.Path, "@") {
			return nil, fmt.Errorf("server address %s: an abstract socket cannot be mounted into a container (use a socket file or tcp)", server)
		}
		dir := filepath.Dir(a.Path)
		e.Mounts = append(e.Mounts, cdiMount{HostPath: dir, ContainerPath: dir, Options: []string{"rw", "nosuid", "nodev", "noexec", "bind"}})
		if gid, ok := groupID(o.Root, Group); ok {
			e.AdditionalGIDs = []uint32{gid}
		}
	}
	spec := cdiSpec{Version: CDIVersion, Kind: CDIKind, Devices: []cdiDevice{{Name: "all", ContainerEdits: e}}}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// groupID is the id of group name in root's /etc/group.
func groupID(root, name string) (uint32, bool) {
	f, err := os.Open(filepath.Join(root, "etc", "group"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) >= 3 && parts[0] == name {
			if id, err := strconv.ParseUint(parts[2], 10, 32); err == nil {
				return uint32(id), true
			}
		}
	}
	return 0, false
}
