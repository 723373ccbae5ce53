// Package docs holds the project's documentation; its test checks that what the documents and
// the code's comments cite exists.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	backticked = regexp.MustCompile("`([^`\n]+)`")
	// a file name: letters, digits, '_', '-', '.', '/', '*', with a known source extension
	fileRef  = regexp.MustCompile(`(?:^|[\s(` + "`" + `'"])((?:[A-Za-z0-9_.*-]+/)*[A-Za-z0-9_*-]+[A-Za-z0-9_.*-]*\.(?:go|c|h|sh|md|py|map|mk|cu|json|conf|service))\b`)
	ourBare  = regexp.MustCompile(`\.(go|c|sh|cu|mk|map)$`)
	external = regexp.MustCompile(`^(cuda|cu[A-Z]|CU_|CUDA_|CUBLAS|cublas|nvml|NVML_|ggml_|llama_|NVreg_)`)
	ident    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)
)

// repo walks the repository's own files (no build outputs, no VCS data).
func repo(t *testing.T) (root string, files []string) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch rel {
			case ".git", "build/out", "build/obj", ".carry", ".gl", ".whl":
				return filepath.SkipDir
			}
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root, files
}

// exists reports whether ref names a file of the repository: a path from the root, or, for a
// bare name, a file of that name anywhere (a '*' matches as in a shell pattern).
func exists(ref string, files []string) bool {
	for _, f := range files {
		if ok, _ := filepath.Match(ref, f); ok {
			return true
		}
		if !strings.Contains(ref, "/") {
			if ok, _ := filepath.Match(ref, filepath.Base(f)); ok {
				return true
			}
		}
		if strings.HasSuffix(f, "/"+ref) { // a path relative to a package folder
			return true
		}
	}
	return false
}

// The documents and the code's comments cite only files that exist in the repository.
func TestCitedFilesExist(t *testing.T) {
	root, files := repo(t)
	for _, f := range files {
		ext := filepath.Ext(f)
		switch ext {
		case ".md", ".go", ".c", ".h", ".sh", ".py", ".cu":
		default:
			continue
		}
		if strings.HasPrefix(f, "docs/archive/") || strings.HasSuffix(f, "_test.go") && strings.HasPrefix(f, "docs/") {
			continue // history cites what existed then
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			text := line
			if ext != ".md" {
				text = comment(line, ext)
			}
			for _, m := range fileRef.FindAllStringSubmatch(text, -1) {
				ref := strings.TrimPrefix(m[1], "./")
				if strings.HasPrefix(ref, "lib") || strings.Contains(ref, "*.") && !strings.Contains(ref, "/") {
					continue // a library or a pattern of the build, not a source file
				}
				if strings.HasSuffix(ref, ".h") && !strings.HasPrefix(ref, "include/vgpu/") && !strings.HasPrefix(ref, "shims/") {
					continue // a header of NVIDIA's toolkit or of the system
				}
				if !strings.Contains(ref, "/") && !ourBare.MatchString(ref) {
					continue // a bare name of another kind (ld.so.conf, ollama.service, train.py) is not ours
				}
				if !exists(ref, files) {
					t.Errorf("%s:%d cites %s, which is not in the repository", f, i+1, ref)
				}
			}
		}
	}
}

// comment returns the comment part of a line of code (roughly: after // or #, or inside /* */).
func comment(line, ext string) string {
	s := strings.TrimSpace(line)
	switch ext {
	case ".sh", ".py":
		if i := strings.Index(s, "#"); i >= 0 {
			return s[i:]
		}
		return ""
	}
	if i := strings.Index(s, "//"); i >= 0 {
		return s[i:]
	}
	if strings.HasPrefix(s, "*") || strings.HasPrefix(s, "/*") {
		return s
	}
	return ""
}

// Names the Markdown documents put in backticks as code (a Go or C identifier, or Type.Method)
// occur in the code.
func TestCitedNamesExist(t *testing.T) {
	root, files := repo(t)
	var code strings.Builder
	var docs []string
	for _, f := range files {
		switch filepath.Ext(f) {
		case ".md":
			if !strings.HasPrefix(f, "docs/archive/") {
				docs = append(docs, f)
			}
			continue
		case ".go", ".c", ".h", ".sh", ".py", ".cu", ".map", ".service", ".conf", ".yaml", ".json", "":
		default:
			if !strings.HasPrefix(filepath.Base(f), "Dockerfile") {
				continue
			}
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	all := code.String()
	for _, f := range docs {
		b, _ := os.ReadFile(filepath.Join(root, f))
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range backticked.FindAllStringSubmatch(line, -1) {
				name := m[1]
				if !ident.MatchString(name) || !strings.ContainsAny(name, "_.ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
					continue // a word, a command or a value, not a name
				}
				if external.MatchString(name) {
					continue // a name of NVIDIA's or ggml's API, not of ours
				}
				last := name[strings.LastIndex(name, ".")+1:]
				if !strings.Contains(all, last) {
					t.Errorf("%s:%d names `%s`, which the code does not have", f, i+1, name)
				}
			}
		}
	}
}
