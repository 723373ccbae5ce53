// Package cheader reads the declarations gen/ needs out of C headers: comments removed,
// preprocessor lines set apart from the code, the code split into top-level statements, and
// function prototypes parsed into a return type, a name and typed parameters.
//
// It is not a C parser. It knows the shapes NVIDIA's CUDA headers use: declarations ending in
// ';', `extern "C" { ... }` blocks (transparent), bodies of inline functions, structs and enums
// (skipped), macros written before a declaration's return type or name (kept apart, so a rule
// can ask for them), and `#if` blocks, all of which are read except those for Windows only
// (`#ifdef _WIN32`, `#if defined(_WIN32)`).
package cheader

import (
	"strings"
)

// Header is a header file as cheader sees it.
type Header struct {
	Directives []string // preprocessor lines, continuations joined, whitespace collapsed
	Stmts      []Stmt   // top-level statements, in order
}

// Stmt is one top-level statement of the code.
type Stmt struct {
	Text string // whitespace collapsed, without the ';' or the body that ends it
	Body bool   // a definition: the text was followed by a { ... } body (inline function, struct, ...)
}

// Parse splits src into directives and statements.
func Parse(src []byte) Header {
	var h Header
	var code strings.Builder
	var skip []bool // per open #if: whether its current branch is Windows-only
	skipping := func() bool {
		for _, s := range skip {
			if s {
				return true
			}
		}
		return false
	}
	for _, line := range logicalLines(stripComments(string(src))) {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "#") {
			if !skipping() {
				code.WriteString(line)
				code.WriteByte('\n')
			}
			continue
		}
		d := collapse(strings.TrimSpace(t[1:]))
		word, rest, _ := strings.Cut(d, " ")
		switch word {
		case "if", "ifdef", "ifndef":
			skip = append(skip, word != "ifndef" && windowsOnly(rest))
		case "elif":
			if len(skip) > 0 {
				skip[len(skip)-1] = windowsOnly(rest)
			}
		case "else":
			if len(skip) > 0 {
				skip[len(skip)-1] = false
			}
		case "endif":
			if len(skip) > 0 {
				skip = skip[:len(skip)-1]
			}
		}
		if !skipping() {
			h.Directives = append(h.Directives, "#"+d)
		}
	}
	h.Stmts = statements(code.String())
	return h
}

// windowsOnly reports whether an #if condition holds only on Windows.
func windowsOnly(cond string) bool {
	c := strings.ReplaceAll(cond, " ", "")
	return c == "_WIN32" || c == "defined(_WIN32)" || c == "defined(_WIN64)" || c == "_WIN64"
}

// stripComments replaces each comment with a space (a block comment keeps its newlines, so
// that line structure stays), leaving string and character literals alone.
func stripComments(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\n' {
					i++ // a line comment continued by a backslash
				}
				i++
			}
			b.WriteByte(' ')
			if i < len(s) {
				b.WriteByte('\n')
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			b.WriteByte(' ')
			i += 2
			for i < len(s) && !(s[i] == '*' && i+1 < len(s) && s[i+1] == '/') {
				if s[i] == '\n' {
					b.WriteByte('\n')
				}
				i++
			}
			i++ // the '/'
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c && s[j] != '\n' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			b.WriteString(s[i : j+1])
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// logicalLines splits s into lines, joining a line that ends in a backslash with the next.
func logicalLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(l[:len(l)-1])
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// collapse replaces each run of white space with one space and trims the ends.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// statements splits code into top-level statements. `extern "C" {` and a namespace's brace
// are transparent; any other '{' starts a body, skipped to its matching '}'.
func statements(code string) []Stmt {
	var out []Stmt
	var cur strings.Builder
	emit := func(body bool) {
		if t := collapse(cur.String()); t != "" {
			out = append(out, Stmt{Text: t, Body: body})
		}
		cur.Reset()
	}
	depth := 0 // inside a skipped body
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == '"' || c == '\'' { // a literal: copied (or skipped) whole
			j := i + 1
			for j < len(code) && code[j] != c {
				if code[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(code) {
				j = len(code) - 1
			}
			if depth == 0 {
				cur.WriteString(code[i : j+1])
			}
			i = j
			continue
		}
		if depth > 0 {
			switch c {
			case '{':
				depth++
			case '}':
				depth--
			}
			continue
		}
		switch c {
		case ';':
			emit(false)
		case '{':
			t := collapse(cur.String())
			if t == `extern "C"` || strings.HasPrefix(t, "namespace") {
				cur.Reset()
				continue
			}
			emit(true)
			depth = 1
		case '}':
			emit(false) // the end of an extern "C" block
		default:
			cur.WriteByte(c)
		}
	}
	emit(false)
	return out
}
