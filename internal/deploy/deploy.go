// Package deploy knows where the packages (packaging/) install vgpu's client files and writes what
// connects a program to them: the preload list, a systemd drop-in for Ollama (`vgpu enable
// ollama`), an ld.so.conf.d entry for a GPU-less machine (`vgpu enable system`) and a Container
// Device Interface spec (`vgpu cdi generate`). Every function takes a root folder ("/" on a real
// system, a scratch tree in tests); the paths it writes into files are those of the system itself.
package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

const (
	// CoreName is the Go core; a folder holding it next to the stubs is a client folder.
	CoreName = "libvgpucore.so"
	// ConfigFile is the client config file (internal/remoting reads it).
	ConfigFile = "/etc/vgpu/vgpu.conf"
	// SocketDir is the server's runtime folder (the unit's RuntimeDirectory=vgpu) and Socket its
	// default socket.
	SocketDir = "/run/vgpu"
	Socket    = SocketDir + "/vgpu.sock"
	// Group is the group whose members may connect to the packaged server's socket.
	Group = "vgpu"
)

// LibDirDeb and LibDirRPM are the client folder of the .deb and the .rpm package on this
// architecture: the distribution's library folder plus "vgpu".
func LibDirDeb(goarch string) string {
	triple := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[goarch]
	if triple == "" {
		triple = goarch + "-linux-gnu"
	}
	return "/usr/lib/" + triple + "/vgpu"
}

func LibDirRPM(goarch string) string { return "/usr/lib64/vgpu" }

// LibDirs is where the packages of this architecture put the client folder, .deb's first.
func LibDirs() []string {
	return []string{LibDirDeb(runtime.GOARCH), LibDirRPM(runtime.GOARCH)}
}

// Stubs is every stub library a client folder holds, by SONAME (the Makefile's list).
var Stubs = []string{
	"libcuda.so.1", "libnvidia-ml.so.1", "libcudart.so.12", "libcudart.so.13",
	"libcublas.so.12", "libcublasLt.so.12", "libcublas.so.13", "libcublasLt.so.13",
}

// Links are the unversioned names a client folder has (linkers look for them), and their targets.
var Links = map[string]string{
	"libcuda.so":      "libcuda.so.1",
	"libnvidia-ml.so": "libnvidia-ml.so.1",
	"libcudart.so":    "libcudart.so.13",
	"libcublas.so":    "libcublas.so.13",
	"libcublasLt.so":  "libcublasLt.so.13",
}

// Extras are the other files of a client folder: the exec shim and the discovery program that
// `vgpu doctor` runs.
var Extras = []string{"libvgpu-exec.so", "vgpu-discover"}

// Preload is the order in which a program that brings its own CUDA libraries (Ollama's
// lib/ollama/cuda_v13, llama.cpp) preloads vgpu's: the runtime, cuBLAS(Lt), then the driver and
// NVML (README.md and test/gpu/llama_checks.sh use the same list).
var Preload = []string{"libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcuda.so.1", "libnvidia-ml.so.1"}

// PreloadList is the LD_PRELOAD value for the client folder dir.
func PreloadList(dir string) string {
	var s []string
	for _, l := range Preload {
		s = append(s, filepath.Join(dir, l))
	}
	return strings.Join(s, ":")
}

// IsClientDir reports whether dir (a path under the real file system) holds the core.
func IsClientDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, CoreName))
	return err == nil && fi.Mode().IsRegular()
}

// FindLibDir is the client folder, as a path of the system under root: explicit (if not ""), else
// the folder of the running executable when it holds the core (build/out), else the first of
// LibDirs that does.
func FindLibDir(root, explicit string) (string, error) {
	if explicit != "" {
		if !IsClientDir(filepath.Join(root, explicit)) {
			return "", fmt.Errorf("%s holds no %s: not a vgpu client folder", filepath.Join(root, explicit), CoreName)
		}
		return explicit, nil
	}
	if root == "/" {
		if exe, err := os.Executable(); err == nil {
			if exe, err = filepath.EvalSymlinks(exe); err == nil && IsClientDir(filepath.Dir(exe)) {
				return filepath.Dir(exe), nil
			}
		}
	}
	var tried []string
	for _, d := range LibDirs() {
		if IsClientDir(filepath.Join(root, d)) {
			return d, nil
		}
		tried = append(tried, filepath.Join(root, d))
	}
	return "", fmt.Errorf("no vgpu client folder (%s) in %s: install the vgpu-client package or pass --lib DIR", CoreName, strings.Join(tried, ", "))
}

// GroupExists reports whether root's /etc/group has the group name.
func GroupExists(root, name string) bool {
	_, ok := groupID(root, name)
	return ok
}

// writeFile writes text to path under root (making its folder), atomically.
func writeFile(root, path, text string, mode fs.FileMode) error {
	full := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	tmp := full + ".vgpu-new"
	if err := os.WriteFile(tmp, []byte(text), mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, full)
}

// removeOurs removes path under root if it is a file we wrote (its first line is our header);
// false when there was none.
func removeOurs(root, path string) (bool, error) {
	full := filepath.Join(root, path)
	b, err := os.ReadFile(full)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !strings.HasPrefix(string(b), header) {
		return false, fmt.Errorf("%s was not written by vgpu (its first line is not %q): left alone", full, strings.TrimSpace(header))
	}
	return true, os.Remove(full)
}

// header starts every file vgpu writes outside its own folders.
const header = "# Written by vgpu"
