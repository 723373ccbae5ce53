package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// zz_ids.go (cmd/vgpugen) names every row's id as IDConsts says, with the row's index: a stale
// file would give a hand-written call another row.
func TestIDs(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "zz_ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			n, err := strconv.Atoi(v.Values[0].(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			got[v.Names[0].Name] = n
		}
	}
	want := IDConsts()
	if len(got) != len(want) {
		t.Fatalf("zz_ids.go names %d rows, the table has %d: run make generate", len(got), len(want))
	}
	for i, c := range want {
		if n, ok := got[c]; !ok || n != i {
			t.Fatalf("zz_ids.go: %s is %d (present %v), the table's row %d: run make generate", c, n, ok, i)
		}
	}
	if IDcuInit != 0 || Table[IDcudaStreamGetCaptureInfo_libcudart12].Libs[0] != LibCudart12 {
		t.Error("IDs do not index Table")
	}
}
