// Command vgpu-package (`make package`) builds vgpu's .deb and .rpm packages from build/out with
// nfpm used as a library (no system packaging tool):
//
//	vgpu-client  the stubs, the core, libvgpu-exec.so and vgpu-discover in one folder
//	             (deb: /usr/lib/<triple>/vgpu, rpm: /usr/lib64/vgpu) with the unversioned
//	             symlinks; /usr/bin/vgpu; /etc/vgpu/vgpu.conf (a commented example, a conffile)
//	vgpu-server  /usr/bin/vgpu-server; the unit vgpu-server.service; the system user and group
//	             vgpu (sysusers.d and the postinstall script); /etc/vgpu/server.conf
//
// The file lists, folders and preload order come from internal/deploy, which `vgpu enable`,
// `vgpu run` and `vgpu doctor` use too.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm"

	"github.com/vgpu/vgpu/internal/deploy"
)

// Options says what to build.
type Options struct {
	Out     string // build/out
	Files   string // packaging/files and the repository root's LICENSE: the folder of this file
	Dest    string // where the packages go
	Version string // git describe (the Makefile's VERSION)
	Arch    string // GOARCH
}

// Formats are the package formats built.
var Formats = []string{"deb", "rpm"}

// Paths of the packaged files that are the same for both formats.
const (
	BinDir       = "/usr/bin"
	UnitPath     = "/usr/lib/systemd/system/vgpu-server.service"
	SysusersPath = "/usr/lib/sysusers.d/vgpu.conf"
	ServerConf   = "/etc/vgpu/server.conf"
)

// LibDir is the client folder of a format.
func LibDir(format, arch string) string {
	if format == "rpm" {
		return deploy.LibDirRPM(arch)
	}
	return deploy.LibDirDeb(arch)
}

// PkgVersion maps `git describe --tags --always --dirty` to a version deb and rpm order right:
// v1.2.3 → 1.2.3; v1.2.3-4-gabc → 1.2.3+4.gabc (after 1.2.3); v1.2.3-rc1 → 1.2.3~rc1 (before
// 1.2.3); a bare commit abc (no tag) → 0.0.0~gabc; "-dirty" → ".dirty" on the last part; "dev" →
// 0.0.0~dev.
func PkgVersion(describe string) (version, prerelease, metadata string) {
	d := strings.TrimPrefix(strings.TrimSpace(describe), "v")
	dirty := strings.HasSuffix(d, "-dirty")
	d = strings.TrimSuffix(d, "-dirty")
	tagRE := regexp.MustCompile(`^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.]+?))?(?:-(\d+)-g([0-9a-f]+))?$`)
	if m := tagRE.FindStringSubmatch(d); m != nil {
		version, prerelease = m[1], m[2]
		if m[3] != "" {
			metadata = m[3] + ".g" + m[4]
		}
		if dirty {
			if metadata != "" {
				metadata += ".dirty"
			} else {
				metadata = "dirty"
			}
		}
		return version, prerelease, metadata
	}
	version = "0.0.0"
	switch {
	case regexp.MustCompile(`^[0-9a-f]{4,40}$`).MatchString(d):
		prerelease = "g" + d
	case d == "":
		prerelease = "dev"
	default:
		prerelease = regexp.MustCompile(`[^0-9A-Za-z.]+`).ReplaceAllString(d, ".")
	}
	if dirty {
		prerelease += ".dirty"
	}
	return version, prerelease, metadata
}

// Package is one package of one format: its file name and nfpm's description of it.
type Package struct {
	Name, Format, File string
	Info               *nfpm.Info
}

// Packages describes every package of every format.
func Packages(o Options) ([]Package, error) {
	var pkgs []Package
	for _, format := range Formats {
		for _, name := range []string{"vgpu-client", "vgpu-server"} {
			info, err := packageInfo(o, name, format)
			if err != nil {
				return nil, err
			}
			pkgs = append(pkgs, Package{Name: name, Format: format, Info: info})
		}
	}
	return pkgs, nil
}

func packageInfo(o Options, name, format string) (*nfpm.Info, error) {
	version, pre, meta := PkgVersion(o.Version)
	mode := func(m os.FileMode) *files.ContentFileInfo {
		return &files.ContentFileInfo{Mode: m, Owner: "root", Group: "root"}
	}
	out := func(f string) string { return filepath.Join(o.Out, f) }
	own := func(f string) string { return filepath.Join(o.Files, "files", f) }
	license := files.Content{Source: filepath.Join(o.Files, "..", "LICENSE"), Destination: "/usr/share/doc/" + name + "/copyright", FileInfo: mode(0o644)}
	if format == "rpm" {
		license = files.Content{Source: filepath.Join(o.Files, "..", "LICENSE"), Destination: "/usr/share/licenses/" + name + "/LICENSE", Type: files.TypeRPMLicense, FileInfo: mode(0o644)}
	}
	contents := files.Contents{&license}
	add := func(c files.Content) { contents = append(contents, &c) }
	var scripts nfpm.Scripts
	var desc string
	switch name {
	case "vgpu-client":
		desc = "vgpu client: CUDA, NVML, cudart and cuBLAS stand-ins that run a program's GPU calls on a vgpu-server"
		lib := LibDir(format, o.Arch)
		add(files.Content{Destination: lib, Type: files.TypeDir, FileInfo: mode(0o755)})
		// Shared libraries 0644 (Debian policy), programs 0755.
		for _, f := range append(append([]string{deploy.CoreName}, deploy.Stubs...), "libvgpu-exec.so") {
			add(files.Content{Source: out(f), Destination: lib + "/" + f, FileInfo: mode(0o644)})
		}
		add(files.Content{Source: out("vgpu-discover"), Destination: lib + "/vgpu-discover", FileInfo: mode(0o755)})
		for link, target := range deploy.Links {
			add(files.Content{Source: target, Destination: lib + "/" + link, Type: files.TypeSymlink, FileInfo: mode(0o777)})
		}
		add(files.Content{Source: out("vgpu"), Destination: BinDir + "/vgpu", FileInfo: mode(0o755)})
		add(files.Content{Source: own("vgpu.conf"), Destination: deploy.ConfigFile, Type: files.TypeConfigNoReplace, FileInfo: mode(0o644)})
	case "vgpu-server":
		desc = "vgpu server: serves this host's GPUs to vgpu clients (systemd unit vgpu-server.service)"
		add(files.Content{Source: out("vgpu-server"), Destination: BinDir + "/vgpu-server", FileInfo: mode(0o755)})
		add(files.Content{Source: own("vgpu-server.service"), Destination: UnitPath, FileInfo: mode(0o644)})
		add(files.Content{Source: own("vgpu.sysusers"), Destination: SysusersPath, FileInfo: mode(0o644)})
		add(files.Content{Source: own("server.conf"), Destination: ServerConf, Type: files.TypeConfigNoReplace, FileInfo: mode(0o644)})
		scripts = nfpm.Scripts{PostInstall: own("server-postinstall.sh"), PreRemove: own("server-preremove.sh"), PostRemove: own("server-postremove.sh")}
	}
	for _, c := range contents {
		if c.Type == files.TypeSymlink || c.Type == files.TypeDir {
			continue
		}
		if _, err := os.Stat(c.Source); err != nil {
			return nil, fmt.Errorf("%s: %w (run make build first)", name, err)
		}
	}
	info := &nfpm.Info{
		Name:            name,
		Arch:            o.Arch,
		Platform:        "linux",
		Version:         version,
		VersionSchema:   "none",
		Prerelease:      pre,
		VersionMetadata: meta,
		Release:         "1",
		Section:         "utils",
		Priority:        "optional",
		Maintainer:      "The vgpu Authors <vgpu@localhost>",
		Description:     desc,
		Vendor:          "The vgpu Authors",
		License:         "Apache-2.0",
		MTime:           time.Unix(0, 0).UTC(),
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts:  scripts,
			RPM:      nfpm.RPM{Compression: "gzip", Group: "System Environment/Libraries", Summary: desc},
		},
	}
	if name == "vgpu-server" {
		info.RPM.Requires.Post = []string{"shadow-utils"}
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, format, err)
	}
	return info, nil
}

// Build writes every package to o.Dest and returns their paths.
func Build(o Options) ([]string, error) {
	pkgs, err := Packages(o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dest, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range pkgs {
		packager, err := nfpm.Get(p.Format)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(o.Dest, packager.ConventionalFileName(p.Info))
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := packager.Package(p.Info, f); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
