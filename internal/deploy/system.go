package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LdSoConf is the linker-cache entry `vgpu enable system` writes: every program on the machine
// that loads libcuda.so.1 (or another vgpu SONAME) by name gets vgpu's. Only for machines without
// an NVIDIA driver; a program that brings its own copies (Ollama) still needs `vgpu enable ollama`.
const LdSoConf = "/etc/ld.so.conf.d/vgpu.conf"

// driverDirs are where NVIDIA's driver packages put libcuda.so.1.
var driverDirs = []string{
	"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64",
	"/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib",
}

// RealDriver says why root looks like a machine with an NVIDIA driver ("" when it does not): a
// /dev/nvidia0, or a libcuda.so.1 that is not vgpu's in a driver folder or in the linker cache
// (ldconfig -p, on the real root only).
func RealDriver(root, libDir string) string {
	if _, err := os.Stat(filepath.Join(root, "dev", "nvidia0")); err == nil {
		return joinRoot(root, "/dev/nvidia0") + " exists"
	}
	ours := func(p string) bool {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return false
		}
		return IsClientDir(filepath.Dir(real))
	}
	for _, d := range driverDirs {
		p := filepath.Join(root, d, "libcuda.so.1")
		if _, err := os.Stat(p); err == nil && !ours(p) {
			return p + " is installed (not vgpu's)"
		}
	}
	if root == "/" {
		if out, err := exec.Command("ldconfig", "-p").Output(); err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				if !strings.Contains(line, "libcuda.so.1 ") {
					continue
				}
				if _, p, ok := strings.Cut(line, "=> "); ok && !ours(strings.TrimSpace(p)) {
					return strings.TrimSpace(p) + " is in the linker cache (not vgpu's)"
				}
			}
		}
	}
	return ""
}

// LdSoConfText is the entry's text.
func LdSoConfText(libDir string) string {
	return fmt.Sprintf("%s (`vgpu enable system`); `vgpu disable system` removes it.\n# vgpu's libcuda.so.1 and the other stubs for every program on this GPU-less machine.\n%s\n", header, libDir)
}

// EnableSystem writes the entry under root unless RealDriver finds a driver: then it writes
// nothing and returns that reason as refused. The caller runs ldconfig.
func EnableSystem(root, libDir string) (path, refused string, err error) {
	if why := RealDriver(root, libDir); why != "" {
		return "", why, nil
	}
	if err := writeFile(root, LdSoConf, LdSoConfText(libDir), 0o644); err != nil {
		return "", "", err
	}
	return joinRoot(root, LdSoConf), "", nil
}

// DisableSystem removes our entry; false when there was none.
func DisableSystem(root string) (bool, error) { return removeOurs(root, LdSoConf) }
