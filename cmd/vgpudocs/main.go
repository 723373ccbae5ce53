// Command vgpudocs writes the README's generated tables from their declarations: the
// environment variables (internal/settings), the client config file's keys (the variables'
// Key) and the server config file's keys (Keys in internal/server/config.go). Each table sits
// between the lines `<!-- generated: NAME ... -->` and `<!-- end generated: NAME -->`; the rest
// of the README is left as it is.
//
// Run it through `make generate`; `make check-generated` (part of `make test`) fails when the
// README's tables are stale. With -root DIR it writes the README into DIR instead.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/vgpu/vgpu/internal/server"
	"github.com/vgpu/vgpu/internal/settings"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	root := flag.String("root", ".", "where to write README.md")
	flag.Parse()
	in, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	out, err := Generate(in)
	if err != nil {
		return fmt.Errorf("README.md: %w", err)
	}
	p := filepath.Join(*root, "README.md")
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, out) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, out, 0o644)
}

// Sections are the generated tables by name.
var Sections = map[string]func() string{
	"env":           func() string { return envTable(false) },
	"env-test":      func() string { return envTable(true) },
	"client-config": clientConfigTable,
	"server-config": serverConfigTable,
}

// Generate returns readme with each generated section's table rewritten. Every section must
// appear exactly once.
func Generate(readme []byte) ([]byte, error) {
	s := string(readme)
	for name, table := range Sections {
		begin, end := "<!-- generated: "+name+" ", "<!-- end generated: "+name+" -->"
		i := strings.Index(s, begin)
		if i < 0 || strings.Count(s, begin) != 1 {
			return nil, fmt.Errorf("want one line starting %q", begin)
		}
		nl := strings.IndexByte(s[i:], '\n')
		j := strings.Index(s, end)
		if nl < 0 || j < i+nl {
			return nil, fmt.Errorf("section %s: want %q after its start line", name, end)
		}
		s = s[:i+nl+1] + table() + s[j:]
	}
	return []byte(s), nil
}

// cell escapes a table cell's text.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func row(cells ...string) string {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

func envTable(tests bool) string {
	var b strings.Builder
	b.WriteString("| variable | read by | value | default | meaning |\n|---|---|---|---|---|\n")
	for _, v := range settings.All() {
		if v.TestOnly() != tests {
			continue
		}
		var readers []string
		for _, r := range v.ReadBy {
			readers = append(readers, string(r))
		}
		meaning := v.Meaning
		if v.Key != "" {
			meaning += " (config key `" + v.Key + "`)"
		}
		b.WriteString(row("`"+v.Name+"`", strings.Join(readers, ", "), v.Type, v.Default, meaning))
	}
	return b.String()
}

func clientConfigTable() string {
	var b strings.Builder
	b.WriteString("| key | meaning | default |\n|---|---|---|\n")
	for _, v := range settings.All() {
		if v.Key != "" {
			b.WriteString(row("`"+v.Key+"`", v.Meaning+" (`"+v.Name+"` overrides it)", v.Default))
		}
	}
	return b.String()
}

func serverConfigTable() string {
	var b strings.Builder
	b.WriteString("| key | value | default | meaning |\n|---|---|---|---|\n")
	for _, k := range server.Keys {
		def := k.Default
		switch {
		case def == "":
			def = "none"
		case !strings.ContainsAny(def, " ("):
			def = "`" + def + "`"
		}
		b.WriteString(row("`"+k.Name+"`", k.Type, def, k.Meaning))
	}
	return b.String()
}
