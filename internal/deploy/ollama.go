package deploy

import (
	"fmt"
	"strings"

	"github.com/vgpu/vgpu/internal/remoting"
)

// OllamaDropIn is the systemd drop-in `vgpu enable ollama` writes. A drop-in survives Ollama's
// upgrades (its installer rewrites ollama.service and lib/ollama, never ollama.service.d/).
const OllamaDropIn = "/etc/systemd/system/ollama.service.d/vgpu.conf"

// OllamaOptions says what the drop-in sets.
type OllamaOptions struct {
	LibDir string // the client folder (a path of the system)
	Server string // VGPU_SERVER; "" leaves the address to the client config at run time
	Group  bool   // SupplementaryGroups=vgpu (the server's socket group)
}

// OllamaDropInText is the drop-in's text. Ollama's runner puts its bundled lib/ollama/cuda_v*
// first on LD_LIBRARY_PATH, so only LD_PRELOAD brings vgpu's libraries in (a preloaded library
// wins by SONAME).
func OllamaDropInText(o OllamaOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (`vgpu enable ollama`); `vgpu disable ollama` removes it.\n", header)
	b.WriteString("# Ollama reaches the remote GPU through vgpu's libraries, preloaded: its runner puts its own\n")
	b.WriteString("# lib/ollama/cuda_v* first on LD_LIBRARY_PATH, and a preloaded library wins by SONAME.\n")
	b.WriteString("[Service]\n")
	fmt.Fprintf(&b, "Environment=\"LD_PRELOAD=%s\"\n", PreloadList(o.LibDir))
	if o.Server != "" {
		fmt.Fprintf(&b, "Environment=\"VGPU_SERVER=%s\"\n", o.Server)
	} else {
		fmt.Fprintf(&b, "# The server address comes from %s (key server) at run time.\n", ConfigFile)
	}
	if o.Group {
		fmt.Fprintf(&b, "# Members of group %s may connect to the local vgpu-server's socket.\n", Group)
		fmt.Fprintf(&b, "SupplementaryGroups=%s\n", Group)
	}
	return b.String()
}

// EnableOllama writes the drop-in under root and returns its path (as written, under root) and
// any warnings. server "" leaves the address to the client config.
func EnableOllama(root, libDir, server string) (path string, warnings []string, err error) {
	if server != "" {
		if _, err := remoting.ParseAddr(server); err != nil {
			return "", nil, fmt.Errorf("--server: %w", err)
		}
	}
	o := OllamaOptions{LibDir: libDir, Server: server, Group: GroupExists(root, Group)}
	unixServer := server == "" || strings.HasPrefix(server, "unix:")
	if !o.Group && unixServer {
		warnings = append(warnings, fmt.Sprintf("group %s does not exist here (the vgpu-server package creates it): the ollama user needs another way to reach a local socket", Group))
	}
	if err := writeFile(root, OllamaDropIn, OllamaDropInText(o), 0o644); err != nil {
		return "", warnings, err
	}
	return joinRoot(root, OllamaDropIn), warnings, nil
}

// DisableOllama removes our drop-in (only ours: a file that does not start with our header is
// left alone and reported); false when there was none.
func DisableOllama(root string) (bool, error) { return removeOurs(root, OllamaDropIn) }

func joinRoot(root, path string) string {
	if root == "/" || root == "" {
		return path
	}
	return strings.TrimRight(root, "/") + path
}
