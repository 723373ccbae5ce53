package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/vgpu/vgpu/gen/internal/cheader"
)

// readPrototypes reads a gen/decls prototype file: name -> prototype.
func readPrototypes(file string) (map[string]cheader.Func, error) {
	lines, err := readLines(file)
	if err != nil {
		return nil, err
	}
	m := map[string]cheader.Func{}
	for _, l := range lines {
		f, ok := cheader.ParseFunc(l, nil)
		if !ok {
			return nil, fmt.Errorf("%s: %q is no prototype", file, l)
		}
		m[f.Name] = f
	}
	return m, nil
}

// hostScalarBytes is the size of the element types a host scalar or result may have.
var hostScalarBytes = map[string]int{"float": 4, "double": 8, "cuComplex": 8, "cuDoubleComplex": 16, "int": 4}

// cublasRow makes a row of internal/api's table from a cuBLAS prototype, by the rules
// zz_cublas_torch.go's comment states.
func cublasRow(f cheader.Func) (string, error) {
	if f.Ret != "cublasStatus_t" {
		return "", fmt.Errorf("%s returns %s, not cublasStatus_t", f.Name, f.Ret)
	}
	if len(f.Params) == 0 || f.Params[0] != (cheader.Param{Type: "cublasHandle_t", Name: "handle"}) {
		return "", fmt.Errorf("%s: its first parameter is not cublasHandle_t handle", f.Name)
	}
	params := []string{"cublasH()"}
	waits := false
	for _, p := range f.Params[1:] {
		if p.Name == "" {
			return "", fmt.Errorf("%s: a parameter without a name", f.Name)
		}
		elem := strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(p.Type, "*"), "const "))
		size := hostScalarBytes[elem]
		switch {
		case !strings.Contains(p.Type, "*"):
			params = append(params, fmt.Sprintf("scalar(%q, %q)", p.Type, p.Name))
		case p.Name == "alpha" || p.Name == "beta":
			if size == 0 || !strings.HasPrefix(p.Type, "const ") || strings.Count(p.Type, "*") != 1 {
				return "", fmt.Errorf("%s: host scalar %s of type %s", f.Name, p.Name, p.Type)
			}
			params = append(params, fmt.Sprintf("hScalar(%q, %q, \"%d\")", p.Type, p.Name, size))
		case p.Name == "result":
			if size == 0 || strings.HasPrefix(p.Type, "const ") || strings.Count(p.Type, "*") != 1 {
				return "", fmt.Errorf("%s: host result of type %s", f.Name, p.Type)
			}
			params = append(params, fmt.Sprintf("out(%q, %q, \"%d\")", p.Type, p.Name, size))
			waits = true
		default:
			params = append(params, fmt.Sprintf("dev(%q, %q)", p.Type, p.Name))
		}
	}
	mode := "Serve: Async, "
	if waits {
		mode = ""
	}
	return fmt.Sprintf("\t{Name: %q, Libs: cublas, %sHandler: \"cublasCall\", NoLog: true, Params: []P{\n\t\t%s}},\n",
		f.Name, mode, strings.Join(params, ", ")), nil
}

func cublasTorchGo() ([]byte, error) {
	listFile := manual + "/cublas_torch.txt"
	names, err := readNames(listFile)
	if err != nil {
		return nil, err
	}
	protos, err := readPrototypes(driverDecls + "/cublas_api.txt")
	if err != nil {
		return nil, err
	}
	protos12, err := readPrototypes(cublas12Decls + "/cublas_api.txt")
	if err != nil {
		return nil, err
	}
	var rows bytes.Buffer
	for _, n := range names {
		f, ok := protos[n]
		if !ok {
			return nil, fmt.Errorf("%s names %s, which %s/cublas_api.txt does not declare", listFile, n, driverDecls)
		}
		if f12, ok := protos12[n]; !ok || f12.String() != f.String() {
			return nil, fmt.Errorf("%s: %s declares it otherwise (%s), and the row serves both libraries", n, cublas12Decls, f12)
		}
		row, err := cublasRow(f)
		if err != nil {
			return nil, err
		}
		rows.WriteString(row)
	}
	var b bytes.Buffer
	b.WriteString(header(listFile + ", " + driverDecls + "/cublas_api.txt; checked against " + cublas12Decls + "/cublas_api.txt"))
	b.WriteString(comment("", fmt.Sprintf(`cublasTorchRows: PyTorch's cuBLAS imports whose rows follow from their
prototypes alone (table_cublas.go's cublasTorchTable; host pointer mode). %[1]s names them, in
the table's order; each row is made from the function's prototype in %[2]s's cublas_api.h
(%[3]s/cublas_api.txt), which %[4]s's declares the same (%[5]s/cublas_api.txt), so the row
serves libcublas.so.13 and .12. The parameters, after the cublasHandle_t handle (cublasH()):

- not a pointer: scalar, by value;
- alpha, beta (const T *): hScalar, the host scalar's bytes (float 4, double 8, cuComplex 8,
cuDoubleComplex 16);
- result (T *): out, a host output of T's size; the call waits for its reply;
- any other pointer: dev, a device address passed by value.

A row without a host output is Async. Every row is sent by the client's cublasCall, unlogged.
A function that needs anything else is written by hand in table_cublas.go.`,
		listFile, release(driverDecls), driverDecls, release(cublas12Decls), cublas12Decls)))
	b.WriteString("var cublasTorchRows = []Func{\n")
	b.Write(rows.Bytes())
	b.WriteString("}\n")
	return b.Bytes(), nil
}
