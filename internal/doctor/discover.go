package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/vgpu/vgpu/internal/deploy"
)

const discoverName = "vgpu-discover"

// Step is one line of vgpu-discover's output:
//
//	step <n> <call>: ok[ <k>=<v>...]
//	step <n> <call>: FAILED <code> <NAME>
type Step struct {
	Pass   int // from the preceding "pass <n>" line (vgpu-discover re-runs itself per device); 0 if none
	N      int
	Call   string
	OK     bool
	Detail string // the k=v list, or "<code> <NAME>" of a failure
	Code   int
	Name   string // the failure's name (may contain spaces: a dlerror text)
}

// Discovery is vgpu-discover's parsed output.
type Discovery struct {
	Steps   []Step
	Devices int    // from "discovery: <N> device(s)"; -1 when absent
	Failed  string // from "discovery: FAILED at <call>"
	Final   string // the last "discovery:" line
}

var (
	stepRE    = regexp.MustCompile(`^step (\d+) (.+?): (ok|FAILED)(?: (.*))?$`)
	failRE    = regexp.MustCompile(`^(-?\d+)(?: (.*))?$`)
	passRE    = regexp.MustCompile(`^pass (\d+)\b`)
	devicesRE = regexp.MustCompile(`^discovery: (\d+) device\(s\)$`)
	failAtRE  = regexp.MustCompile(`^discovery: FAILED at (.+)$`)
)

// ParseDiscovery reads vgpu-discover's output. The last "discovery:" line is the verdict (pass-2
// runs print their own before it).
func ParseDiscovery(out string) Discovery {
	d := Discovery{Devices: -1}
	pass := 0
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if m := passRE.FindStringSubmatch(line); m != nil {
			pass, _ = strconv.Atoi(m[1])
			continue
		}
		if m := stepRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			s := Step{Pass: pass, N: n, Call: m[2], OK: m[3] == "ok", Detail: m[4]}
			if !s.OK {
				if f := failRE.FindStringSubmatch(m[4]); f != nil {
					s.Code, _ = strconv.Atoi(f[1])
					s.Name = f[2]
				} else {
					s.Name = m[4]
				}
			}
			d.Steps = append(d.Steps, s)
			continue
		}
		if strings.HasPrefix(line, "discovery: ") {
			d.Final = line
			d.Devices, d.Failed = -1, ""
			if m := devicesRE.FindStringSubmatch(line); m != nil {
				d.Devices, _ = strconv.Atoi(m[1])
			} else if m := failAtRE.FindStringSubmatch(line); m != nil {
				d.Failed = m[1]
			}
		}
	}
	return d
}

// findDiscover is vgpu-discover: --discover, else next to the doctor, else in the folder of a
// preloaded vgpu library, an LD_LIBRARY_PATH folder holding libvgpucore.so, or the installed
// vgpu-client folder.
func (d *doctor) findDiscover() (string, []string) {
	if d.o.Discover != "" {
		return d.o.Discover, nil
	}
	var dirs []string
	if d.o.Self != "" {
		dirs = append(dirs, filepath.Dir(d.o.Self))
	}
	for _, e := range d.preloads {
		if e.Kind.ours() {
			dirs = append(dirs, filepath.Dir(e.Path))
		}
	}
	for _, dir := range d.res.ldLibraryPath {
		if _, err := os.Stat(filepath.Join(dir, coreName)); err == nil {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range deploy.LibDirs() {
		dirs = append(dirs, filepath.Join(d.o.Root, dir))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, discoverName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, dirs
		}
	}
	return "", dirs
}

// checkDiscovery runs vgpu-discover in the checked environment and stops at its first failing
// step.
func (d *doctor) checkDiscovery() {
	path, looked := d.findDiscover()
	if path == "" {
		d.rep.add(Warn, "discovery", "%s not found (looked in %s; pass --discover PATH): GPU discovery through the stubs not checked",
			discoverName, strings.Join(looked, ", "))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.o.DiscoverTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = d.env.list
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	disc := ParseDiscovery(stdout.String())
	logs := vgpuLogLines(stderr.String())

	subject := "discovery"
	for _, s := range disc.Steps {
		stepSubject := fmt.Sprintf("discovery step %d %s", s.N, s.Call)
		if s.Pass > 1 {
			stepSubject = fmt.Sprintf("discovery pass %d step %d %s", s.Pass, s.N, s.Call)
		}
		if s.OK {
			if d.o.Verbose {
				d.rep.add(OK, stepSubject, "%s", orDash(s.Detail))
			}
			continue
		}
		if isNoDevice(s.Name) {
			d.rep.add(Fail, stepSubject, "FAILED %d %s: discovery finds no GPU%s%s", s.Code, s.Name, d.noGPUHint(), logs)
		} else {
			d.rep.add(Fail, stepSubject, "FAILED %d %s%s%s", s.Code, s.Name, d.stepHint(s), logs)
		}
		return
	}
	switch {
	case ctx.Err() != nil:
		d.rep.add(Fail, subject, "%s did not finish in %v (a hang: a stuck server call, or a process forked with a busy runtime)%s", path, d.o.DiscoverTimeout, logs)
	case disc.Devices == 0:
		d.rep.add(Fail, subject, "discovery finds no GPU (%s: %q)%s%s", path, disc.Final, d.noGPUHint(), logs)
	case disc.Devices > 0 && runErr == nil:
		d.rep.add(OK, subject, "%d device(s) found by %s (%d steps ok)", disc.Devices, path, len(disc.Steps))
	case disc.Failed != "":
		d.rep.add(Fail, subject, "%s: FAILED at %s%s", path, disc.Failed, logs)
	default:
		d.rep.add(Fail, subject, "%s %s%s", path, exitText(runErr, stderr.String()), lastLineHint(disc))
	}
}

func orDash(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// vgpuLogLines is the stubs' and core's log lines ("vgpu: ...") from stderr, as a suffix.
func vgpuLogLines(stderr string) string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "vgpu:") || strings.Contains(l, "ld.so") || strings.Contains(l, "error while loading shared libraries") {
			if !containsLine(lines, l) {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 5 {
		lines = append(lines[:5], fmt.Sprintf("(%d more)", len(lines)-5))
	}
	return "; its log: " + strings.Join(lines, " | ")
}

func containsLine(lines []string, l string) bool {
	for _, x := range lines {
		if x == l {
			return true
		}
	}
	return false
}

func exitText(err error, stderr string) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("was killed by signal %v (a crash: check the preload lines above for a second Go runtime or a missing library)", ws.Signal())
		}
		if ee.ExitCode() == 127 {
			why := firstLine(stderr)
			for _, l := range strings.Split(stderr, "\n") {
				if strings.Contains(l, "error while loading shared libraries") {
					why = strings.TrimSpace(l)
				}
			}
			return "could not start (exit 127): " + why
		}
		return fmt.Sprintf("exited with status %d without a verdict", ee.ExitCode())
	}
	if err != nil {
		return fmt.Sprintf("could not run: %v", err)
	}
	return "printed no verdict"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLineHint(disc Discovery) string {
	if disc.Final != "" {
		return fmt.Sprintf(" (last verdict line %q)", disc.Final)
	}
	return ""
}

// isNoDevice: the step's error means "no CUDA device" (CUDA_ERROR_NO_DEVICE, cudaErrorNoDevice).
func isNoDevice(name string) bool {
	return strings.Contains(name, "NO_DEVICE") || strings.Contains(name, "NoDevice")
}

// stepHint explains a failing step from what the earlier checks found.
func (d *doctor) stepHint(s Step) string {
	var hints []string
	if d.server != nil && d.server.err != nil {
		hints = append(hints, "the server check above failed: fix that first")
	}
	if cvd, ok := d.env.lookup("CUDA_VISIBLE_DEVICES"); ok {
		hints = append(hints, fmt.Sprintf("CUDA_VISIBLE_DEVICES=%q hides every device it does not name", cvd))
	}
	if strings.HasPrefix(s.Call, "dlopen") {
		hints = append(hints, "the library could not be loaded: see the preload and library lines above")
	}
	if len(hints) == 0 {
		return ""
	}
	return " (" + strings.Join(hints, "; ") + ")"
}

// noGPUHint says where to look when discovery ran cleanly and found nothing.
func (d *doctor) noGPUHint() string {
	var hints []string
	if d.server != nil {
		if d.server.err != nil {
			hints = append(hints, "the server is unreachable (see the server line)")
		} else {
			hints = append(hints, fmt.Sprintf("server backend %s at %s", d.server.Welcome.Backend, d.server.Addr))
		}
	}
	if cvd, ok := d.env.lookup("CUDA_VISIBLE_DEVICES"); ok {
		hints = append(hints, fmt.Sprintf("CUDA_VISIBLE_DEVICES=%q: does it name a device the server has? (`vgpu smi -L` lists them; unset it to see all)", cvd))
	} else {
		hints = append(hints, "CUDA_VISIBLE_DEVICES is not set")
	}
	return "; hint: " + strings.Join(hints, "; ")
}
