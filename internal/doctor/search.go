package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// The loader's search for a DT_NEEDED name, as glibc's ld.so does it (man 8 ld.so): an object
// already loaded under that SONAME (preloads are loaded first), the requesting object's DT_RPATH
// when it has no DT_RUNPATH, LD_LIBRARY_PATH, its DT_RUNPATH, /etc/ld.so.cache, the default
// folders. Candidates of the wrong class are skipped, as the loader skips them.

// defaultDirs are glibc's trusted folders on this architecture (Debian/Ubuntu multiarch first).
func defaultDirs() []string {
	switch runtime.GOARCH {
	case "amd64":
		return []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	case "arm64":
		return []string{"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	}
	return []string{"/lib64", "/usr/lib64", "/lib", "/usr/lib"}
}

// ldCache is `ldconfig -p`: library name to paths, for this machine's class.
type ldCache struct {
	once  sync.Once
	paths map[string][]string
	err   error
}

// cacheArch is the word `ldconfig -p` prints for native libraries.
func cacheArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86-64"
	case "arm64":
		return "AArch64"
	}
	return ""
}

func (c *ldCache) lookup(name string) []string {
	c.once.Do(func() {
		c.paths = map[string][]string{}
		ldconfig := "ldconfig"
		for _, p := range []string{"/sbin/ldconfig", "/usr/sbin/ldconfig"} {
			if _, err := os.Stat(p); err == nil {
				ldconfig = p
				break
			}
		}
		out, err := exec.Command(ldconfig, "-p").Output()
		if err != nil {
			c.err = err
			return
		}
		arch := cacheArch()
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			// "\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6"
			line := strings.TrimSpace(sc.Text())
			lib, rest, ok := strings.Cut(line, " (")
			if !ok {
				continue
			}
			flags, path, ok := strings.Cut(rest, ") => ")
			if !ok || (arch != "" && !strings.Contains(flags, arch)) {
				continue
			}
			c.paths[lib] = append(c.paths[lib], path)
		}
	})
	return c.paths[name]
}

// resolver finds files for DT_NEEDED names in one environment.
type resolver struct {
	ldLibraryPath []string
	preloaded     map[string]*elfLib // by SONAME, the first preloaded object with it
	cache         *ldCache
	libs          map[string]*elfLib // readELF results by path
}

func newResolver(env *environ, cache *ldCache) *resolver {
	r := &resolver{preloaded: map[string]*elfLib{}, cache: cache, libs: map[string]*elfLib{}}
	for _, d := range strings.FieldsFunc(env.get("LD_LIBRARY_PATH"), func(c rune) bool { return c == ':' || c == ';' }) {
		r.ldLibraryPath = append(r.ldLibraryPath, d)
	}
	return r
}

// read is readELF with a cache.
func (r *resolver) read(path string) (*elfLib, error) {
	if l, ok := r.libs[path]; ok {
		return l, nil
	}
	l, err := readELF(path)
	if err != nil {
		return nil, err
	}
	r.libs[path] = l
	return l, nil
}

// found is where the loader would take a DT_NEEDED name from.
type found struct {
	Lib   *elfLib
	Path  string
	Where string // "preloaded", "RPATH", "LD_LIBRARY_PATH", "RUNPATH", "ld.so.cache", "default folder", "path"
}

// resolve finds name for the object from (nil for a program without RPATH/RUNPATH, such as a
// dlopen by SONAME). searched lists the places looked in when nothing was found.
func (r *resolver) resolve(name string, from *elfLib) (f found, searched []string) {
	if strings.Contains(name, "/") {
		if l, err := r.read(name); err == nil && l.classProblem() == "" {
			return found{l, name, "path"}, nil
		}
		return found{}, []string{name}
	}
	if l, ok := r.preloaded[name]; ok {
		return found{l, l.Path, "preloaded"}, nil
	}
	try := func(dirs []string, where string) (found, bool) {
		var expanded []string
		for _, d := range dirs {
			if from != nil {
				d = expandDSTs(d, filepath.Dir(absPath(from.Path)))
			}
			if d == "" {
				d = "." // an empty entry is the current folder
			}
			expanded = append(expanded, d)
			p := filepath.Join(d, name)
			if l, err := r.read(p); err == nil && l.classProblem() == "" {
				return found{l, p, where}, true
			}
		}
		if len(dirs) > 0 {
			searched = append(searched, fmt.Sprintf("%s %s", where, strings.Join(expanded, ":")))
		}
		return found{}, false
	}
	if from != nil && len(from.RunPath) == 0 {
		if f, ok := try(from.RPath, "RPATH"); ok {
			return f, nil
		}
	}
	if f, ok := try(r.ldLibraryPath, "LD_LIBRARY_PATH"); ok {
		return f, nil
	}
	if from != nil {
		if f, ok := try(from.RunPath, "RUNPATH"); ok {
			return f, nil
		}
	}
	for _, p := range r.cache.lookup(name) {
		if l, err := r.read(p); err == nil && l.classProblem() == "" {
			return found{l, p, "ld.so.cache"}, nil
		}
	}
	searched = append(searched, "ld.so.cache")
	if f, ok := try(defaultDirs(), "default folders"); ok {
		return f, nil
	}
	return found{}, searched
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
