package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vgpu/vgpu/internal/deploy"
)

// checkInstall checks the packages' layout (internal/deploy): the client folder holds every stub,
// the core, the exec shim, vgpu-discover and the unversioned links; and the Ollama drop-in of
// `vgpu enable ollama`, where there is one, preloads files that exist.
func (d *doctor) checkInstall() {
	found := false
	for _, dir := range deploy.LibDirs() {
		full := filepath.Join(d.o.Root, dir)
		if _, err := os.Stat(full); err != nil {
			continue
		}
		found = true
		var missing []string
		need := append(append([]string{deploy.CoreName}, deploy.Stubs...), deploy.Extras...)
		for _, f := range need {
			if fi, err := os.Stat(filepath.Join(full, f)); err != nil || !fi.Mode().IsRegular() {
				missing = append(missing, f)
			}
		}
		for link, target := range deploy.Links {
			if got, err := os.Readlink(filepath.Join(full, link)); err != nil || got != target {
				missing = append(missing, link+" -> "+target)
			}
		}
		if len(missing) > 0 {
			d.rep.add(Fail, "install "+full, "the vgpu-client folder lacks %s: reinstall the vgpu-client package", strings.Join(missing, ", "))
		} else {
			d.rep.add(OK, "install "+full, "the vgpu-client folder is complete (%d libraries and programs, %d links)", len(need), len(deploy.Links))
		}
	}
	if !found && d.o.Verbose {
		d.rep.add(OK, "install", "no vgpu-client package folder (%s)", strings.Join(deploy.LibDirs(), ", "))
	}
	dropIn := filepath.Join(d.o.Root, deploy.OllamaDropIn)
	b, err := os.ReadFile(dropIn)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), `Environment="LD_PRELOAD=`)
		if !ok {
			continue
		}
		var missing []string
		for _, p := range splitPreload(strings.TrimSuffix(v, `"`)) {
			if _, err := os.Stat(filepath.Join(d.o.Root, p)); err != nil {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			d.rep.add(Fail, "ollama "+dropIn, "preloads %s, which does not exist: Ollama starts without it; run `vgpu enable ollama` again", strings.Join(missing, ", "))
		} else {
			d.rep.add(OK, "ollama "+dropIn, "preloads vgpu's libraries into ollama.service (%s)", fmt.Sprint(len(splitPreload(v))))
		}
	}
}
