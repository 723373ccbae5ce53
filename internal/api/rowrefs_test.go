package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// What a row does is stated in the table; hand-written Go should not find a row by its name in a
// string, nor read a call's arguments by position. This file counts both, over the non-test,
// non-generated Go files outside internal/api, and holds each package to a limit:
//
//	go test ./internal/api -run TestRowRefs -v
//
// prints, per package, the string literals equal to a row's name (and calls of api.Lookup, which
// finds a row by name) and the positional argument reads (c.a[N], a.Vals[N], a.In[N], a.Out[N], and slices of them with constant bounds).

// rowRefLimits is the most of each that a package may hold; a package not listed may hold none.
// A limit only ever goes down.
var rowRefLimits = map[string][2]int{ // package dir: {name literals, positional reads}
	"internal/client": {0, 44},
	"internal/server": {0, 73},
}

type rowRefs struct {
	names, positional int
	where             [2][]string // the first few of each, for the failure message
}

// positionalField: the fields of a call's arguments a positional read indexes (client: call.a;
// server: Args.Vals, Args.In, Args.Out).
var positionalField = map[string]bool{"a": true, "Vals": true, "In": true, "Out": true}

func isIntLit(e ast.Expr) bool {
	if e == nil {
		return true // an omitted slice bound
	}
	l, ok := e.(*ast.BasicLit)
	return ok && l.Kind == token.INT
}

func isArgsField(e ast.Expr) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && positionalField[s.Sel.Name]
}

// countRowRefs walks the repository's hand-written Go and counts per package directory.
func countRowRefs(t *testing.T) map[string]*rowRefs {
	t.Helper()
	names := map[string]bool{}
	for i := range Table {
		names[Table[i].Name] = true
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*rowRefs{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "internal/api" || rel == "build" || rel == "packaging" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(file) {
			return nil
		}
		dir := filepath.Dir(rel)
		r := out[dir]
		if r == nil {
			r = &rowRefs{}
			out[dir] = r
		}
		note := func(n ast.Node, kind int, what string) {
			if len(r.where[kind]) < 30 {
				r.where[kind] = append(r.where[kind], fset.Position(n.Pos()).String()+": "+what)
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				// A Note field is text for people (internal/abi's DevicePropFields says which
				// driver call a member comes from), never compared with a row.
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Note" {
					return false
				}
			case *ast.SelectorExpr:
				// api.Lookup finds a row by its name: hand-written code has the id constant
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "api" && n.Sel.Name == "Lookup" {
					r.names++
					note(n, 0, "api.Lookup")
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && names[s] {
						r.names++
						note(n, 0, "row name "+n.Value)
					}
				}
			case *ast.IndexExpr:
				if isArgsField(n.X) && isIntLit(n.Index) {
					r.positional++
					note(n, 1, "positional read")
				}
			case *ast.SliceExpr:
				if isArgsField(n.X) && isIntLit(n.Low) && isIntLit(n.High) && isIntLit(n.Max) {
					r.positional++
					note(n, 1, "positional slice")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRowRefs fails when a package holds more row-name literals or positional argument reads
// than rowRefLimits allows, and logs the counts.
func TestRowRefs(t *testing.T) {
	counts := countRowRefs(t)
	dirs := make([]string, 0, len(counts))
	for d := range counts {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		r := counts[d]
		if r.names == 0 && r.positional == 0 {
			continue
		}
		t.Logf("%-20s row-name literals %4d   positional reads %4d", d, r.names, r.positional)
		lim := rowRefLimits[d]
		if r.names > lim[0] {
			t.Errorf("%s: %d row-name literals (at most %d): name a row by its api.ID constant (zz_ids.go); first ones:\n\t%s",
				d, r.names, lim[0], strings.Join(r.where[0], "\n\t"))
		}
		if r.positional > lim[1] {
			t.Errorf("%s: %d positional argument reads (at most %d); first ones:\n\t%s",
				d, r.positional, lim[1], strings.Join(r.where[1], "\n\t"))
		}
	}
}
