package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vgpu/vgpu/internal/deploy"
)

// enableMain is `vgpu enable ollama|system` and `vgpu disable ollama|system` (enable false).
func enableMain(enable bool, args []string, stdout, stderr io.Writer) int {
	verb := map[bool]string{true: "enable", false: "disable"}[enable]
	fs := flag.NewFlagSet("vgpu "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "/", "the system's root folder (for tests and images)")
	lib := fs.String("lib", "", "the vgpu client folder (default: the installed package's, "+strings.Join(deploy.LibDirs(), " or ")+")")
	server := fs.String("server", "", "ollama: VGPU_SERVER for Ollama (default: the client config "+deploy.ConfigFile+" at run time)")
	now := fs.Bool("now", false, "ollama: also run systemctl daemon-reload and restart ollama; system: also run ldconfig")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: vgpu %s [flags] ollama|system

  ollama   %s the systemd drop-in %s
           (LD_PRELOAD of vgpu's libraries, VGPU_SERVER, SupplementaryGroups=vgpu)
  system   %s the linker entry %s (vgpu's folder for every program;
           refused on a machine with an NVIDIA driver)

Flags:
`, verb, map[bool]string{true: "write", false: "remove"}[enable], deploy.OllamaDropIn, map[bool]string{true: "write", false: "remove"}[enable], deploy.LdSoConf)
		fs.PrintDefaults()
	}
	// The target may come first or last: `vgpu enable ollama --now` and `vgpu enable --now ollama`.
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if target == "" && fs.NArg() == 1 {
		target = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if target != "ollama" && target != "system" {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "vgpu %s %s: %v\n", verb, target, err)
		return 1
	}
	live := *root == "/"
	if !enable {
		var removed bool
		var err error
		path := deploy.OllamaDropIn
		if target == "ollama" {
			removed, err = deploy.DisableOllama(*root)
		} else {
			path = deploy.LdSoConf
			removed, err = deploy.DisableSystem(*root)
		}
		if err != nil {
			return fail(err)
		}
		if !removed {
			fmt.Fprintf(stdout, "%s: not there, nothing to remove\n", filepath.Join(*root, path))
			return 0
		}
		fmt.Fprintf(stdout, "removed %s\n", filepath.Join(*root, path))
		return after(target, live, *now, stdout, stderr)
	}
	dir, err := deploy.FindLibDir(*root, *lib)
	if err != nil {
		return fail(err)
	}
	if target == "ollama" {
		path, warnings, err := deploy.EnableOllama(*root, dir, *server)
		for _, w := range warnings {
			fmt.Fprintf(stderr, "vgpu enable ollama: warning: %s\n", w)
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "wrote %s (LD_PRELOAD from %s)\n", path, dir)
		return after(target, live, *now, stdout, stderr)
	}
	path, refused, err := deploy.EnableSystem(*root, dir)
	if err != nil {
		return fail(err)
	}
	if refused != "" {
		fmt.Fprintf(stderr, "vgpu enable system: warning: this machine has an NVIDIA driver (%s): nothing written; use `vgpu run` or `vgpu enable ollama` for single programs\n", refused)
		return 0
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", path, dir)
	return after(target, live, *now, stdout, stderr)
}

// after runs (--now on the live system) or prints what makes the change take effect.
func after(target string, live, now bool, stdout, stderr io.Writer) int {
	cmds := [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "restart", "ollama"}}
	if target == "system" {
		cmds = [][]string{{"ldconfig"}}
	}
	var text []string
	for _, c := range cmds {
		text = append(text, strings.Join(c, " "))
	}
	if !now || !live {
		fmt.Fprintf(stdout, "to apply it, run: %s\n", strings.Join(text, " && "))
		return 0
	}
	for _, c := range cmds {
		if _, err := exec.LookPath(c[0]); err != nil {
			fmt.Fprintf(stderr, "vgpu: %s not found: run %s yourself\n", c[0], strings.Join(text, " && "))
			return 1
		}
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stderr, "vgpu: %s: %v\n", strings.Join(c, " "), err)
			return 1
		}
	}
	return 0
}

// runMain is `vgpu run [--lib DIR] [--server ADDR] -- CMD ARGS`: CMD runs with vgpu's libraries
// preloaded (before any LD_PRELOAD it already had) and, with --server, VGPU_SERVER set. It
// replaces this process, so the exit status is the program's.
func runMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("vgpu run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lib := fs.String("lib", "", "the vgpu client folder (default: next to this vgpu, else the installed package's)")
	server := fs.String("server", "", "VGPU_SERVER for the program (default: as the environment and the client config say)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vgpu run [--lib DIR] [--server ADDR] -- PROGRAM [ARGS...]\n\nRuns PROGRAM with vgpu's libraries preloaded; exits with its status.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	dir, err := deploy.FindLibDir("/", *lib)
	if err != nil {
		fmt.Fprintln(stderr, "vgpu run:", err)
		return 1
	}
	prog, err := exec.LookPath(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "vgpu run:", err)
		return 127
	}
	env := runEnv(os.Environ(), dir, *server)
	err = syscall.Exec(prog, fs.Args(), env)
	fmt.Fprintf(stderr, "vgpu run: %s: %v\n", prog, err)
	return 126
}

// runEnv is env with vgpu's preload list first in LD_PRELOAD (entries already there stay, after
// it) and VGPU_SERVER set when server is not "".
func runEnv(env []string, dir, server string) []string {
	pre := deploy.PreloadList(dir)
	var out []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "LD_PRELOAD":
			if v != "" {
				pre += ":" + v
			}
		case k == "VGPU_SERVER" && server != "":
		default:
			out = append(out, kv)
		}
	}
	out = append(out, "LD_PRELOAD="+pre)
	if server != "" {
		out = append(out, "VGPU_SERVER="+server)
	}
	return out
}

// cdiMain is `vgpu cdi generate [--output FILE]`.
func cdiMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "generate" {
		fmt.Fprintln(stderr, "usage: vgpu cdi generate [--output FILE] [--server ADDR] [--lib DIR] [--root DIR]")
		return 2
	}
	fs := flag.NewFlagSet("vgpu cdi generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("output", "", "where to write the spec (e.g. /etc/cdi/vgpu.json); default standard output")
	server := fs.String("server", "", "the server address the container uses (default: the client config, else "+deploy.Socket+")")
	lib := fs.String("lib", "", "the vgpu client folder on the host (default: the installed package's)")
	root := fs.String("root", "/", "the host's root folder (for tests and images)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	dir, err := deploy.FindLibDir(*root, *lib)
	if err != nil {
		fmt.Fprintln(stderr, "vgpu cdi generate:", err)
		return 1
	}
	b, err := deploy.CDISpec(deploy.CDIOptions{Root: *root, LibDir: dir, Server: *server})
	if err != nil {
		fmt.Fprintln(stderr, "vgpu cdi generate:", err)
		return 1
	}
	if *output == "" {
		stdout.Write(b)
		return 0
	}
	if err := os.MkdirAll(filepath.Dir(*output), 0o755); err != nil {
		fmt.Fprintln(stderr, "vgpu cdi generate:", err)
		return 1
	}
	if err := os.WriteFile(*output, b, 0o644); err != nil {
		fmt.Fprintln(stderr, "vgpu cdi generate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: start containers with --device %s=all\n", *output, deploy.CDIKind)
	return 0
}
