package cheader

import (
	"strings"
)

// Func is a function prototype.
type Func struct {
	Prefix []string // the tokens before the name, macros included ("CUBLASWINAPI", "extern", ...)
	Ret    string   // the return type: Prefix less the words a caller names as macros
	Name   string
	Params []Param // nil for (void) or ()
}

// Param is one parameter.
type Param struct {
	Type string // normalised: "const float *const *" ("T x[]" is "T *")
	Name string // "" when the prototype gives none
}

// String is the prototype in the normalised form gen/'s declaration files use:
// "const char *cublasGetStatusString(cublasStatus_t status)".
func (f Func) String() string {
	var b strings.Builder
	b.WriteString(decl(f.Ret, f.Name))
	b.WriteByte('(')
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(decl(p.Type, p.Name))
	}
	b.WriteByte(')')
	return b.String()
}

// decl joins a type and a name as C writes them: "int n", "const float *x".
func decl(typ, name string) string {
	switch {
	case name == "":
		return typ
	case typ == "" || strings.HasSuffix(typ, "*"):
		return typ + name
	}
	return typ + " " + name
}

// notNames are the identifiers that, written before a parenthesis, are no function's name.
var notNames = map[string]bool{
	"__attribute__": true, "__declspec": true, "__dv": true, "__align__": true, "__CUDART_API_PTDS": true,
	"__CUDART_API_PTSZ": true, "decltype": true, "sizeof": true,
}

// cTypeWords are the words a parameter cannot be named: "unsigned int" is a type without a name.
var cTypeWords = map[string]bool{
	"void": true, "char": true, "short": true, "int": true, "long": true, "float": true, "double": true,
	"signed": true, "unsigned": true, "const": true, "volatile": true, "struct": true, "enum": true,
}

// ParseFunc parses a statement that declares one function, as `[prefix] name(params)
// [attributes]`. macros are the words to leave out of the return type (calling conventions,
// export and deprecation macros, storage classes). ok is false for anything else: typedefs,
// variables, function pointers.
func ParseFunc(text string, macros map[string]bool) (f Func, ok bool) {
	toks := tokenize(text)
	if len(toks) == 0 || toks[0] == "typedef" {
		return f, false
	}
	open := -1
	for i := 1; i < len(toks); i++ {
		if toks[i] == "(" && isIdent(toks[i-1]) && !notNames[toks[i-1]] {
			open = i
			break
		}
		if toks[i] == "(" { // an attribute or macro call before the name: skip it
			if j := closing(toks, i); j > 0 {
				i = j
				continue
			}
			return f, false
		}
		if toks[i] == "=" {
			return f, false
		}
	}
	if open < 0 {
		return f, false
	}
	end := closing(toks, open)
	if end < 0 {
		return f, false
	}
	for _, t := range toks[end+1:] { // only attributes may follow, no initialiser
		if t == "=" {
			return f, false
		}
	}
	f.Name = toks[open-1]
	f.Prefix = toks[:open-1]
	var ret []string
	for i := 0; i < len(f.Prefix); i++ {
		t := f.Prefix[i]
		if t == "(" { // an attribute's arguments
			i = closing(f.Prefix, i)
			if i < 0 {
				return f, false
			}
			continue
		}
		if macros[t] || notNames[t] || strings.HasPrefix(t, `"`) {
			continue
		}
		ret = append(ret, t)
	}
	if len(ret) == 0 {
		return f, false
	}
	f.Ret = typeString(ret)
	for _, p := range splitParams(toks[open+1 : end]) {
		if len(p) == 1 && p[0] == "void" && len(toks[open+1:end]) == 1 {
			break
		}
		f.Params = append(f.Params, param(p, macros))
	}
	return f, true
}

// closing is the index of the ')' matching the '(' at i, or -1.
func closing(toks []string, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j] {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// splitParams splits a parameter list at its top-level commas.
func splitParams(toks []string) [][]string {
	if len(toks) == 0 {
		return nil
	}
	var out [][]string
	depth, start := 0, 0
	for i, t := range toks {
		switch t {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, toks[start:i])
				start = i + 1
			}
		}
	}
	return append(out, toks[start:])
}

// param reads one parameter: its default argument (__dv(x), = x) and macros dropped, a
// trailing [] (or [N]) made a pointer.
func param(toks []string, macros map[string]bool) Param {
	var ts []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "=":
			i = len(toks)
		case t == "__dv" || t == "__attribute__":
			if i+1 < len(toks) && toks[i+1] == "(" {
				i = closing(toks, i+1)
				if i < 0 {
					i = len(toks)
				}
			}
		case macros[t]:
		default:
			ts = append(ts, t)
		}
	}
	array := false
	if n := len(ts); n >= 2 && ts[n-1] == "]" {
		for j := n - 1; j >= 0; j-- {
			if ts[j] == "[" {
				ts = ts[:j]
				break
			}
		}
		array = true
	}
	var p Param
	if n := len(ts); n >= 2 && isIdent(ts[n-1]) && !cTypeWords[ts[n-1]] {
		p.Name = ts[n-1]
		ts = ts[:n-1]
	}
	if array {
		ts = append(ts, "*")
	}
	p.Type = typeString(ts)
	return p
}

// typeString writes type tokens as vgpu's tables do: words apart, a '*' after a space when it
// follows a word and none after it ("const float *const *").
func typeString(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && !(t == "*" && toks[i-1] == "*") && !(toks[i-1] == "*" && t != "*") {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

// tokenize splits C text into identifiers (and numbers), string literals and single
// punctuation characters ("..." stays one token).
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case strings.HasPrefix(s[i:], "..."):
			toks = append(toks, "...")
			i += 3
		case strings.HasPrefix(s[i:], "::"):
			toks = append(toks, "::")
			i += 2
		default:
			toks = append(toks, string(c))
			i++
		}
	}
	return toks
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isIdent(t string) bool {
	return t != "" && isIdentByte(t[0]) && !(t[0] >= '0' && t[0] <= '9')
}
