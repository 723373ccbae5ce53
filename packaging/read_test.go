package main

// Readers for the built packages that need no system tool: a .deb is an ar archive of
// debian-binary, control.tar.gz and data.tar.gz; an .rpm is a 96-byte lead, a signature header
// (padded to 8 bytes), the main header and a gzip-compressed cpio ("newc") payload.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// entry is one file of a package as its archive gives it.
type entry struct {
	Path   string // absolute: /usr/bin/vgpu
	Mode   fs.FileMode
	Link   string // a symlink's target
	Data   []byte
	Config bool // a conffile (deb: listed in conffiles; rpm: %config(noreplace))
}

// pkgContents is what a package holds: its files by path and its maintainer scripts by name
// (deb: postinst, prerm, postrm; rpm: the same names for %post, %preun, %postun).
type pkgContents struct {
	Files   map[string]*entry
	Scripts map[string]string
}

// ---- .deb ----

func readDeb(path string) (*pkgContents, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		return nil, fmt.Errorf("%s: not an ar archive", path)
	}
	members := map[string][]byte{}
	for off := 8; off+60 <= len(b); {
		h := b[off : off+60]
		name := strings.TrimSuffix(strings.TrimSpace(string(h[:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(h[48:58])))
		if err != nil || off+60+size > len(b) {
			return nil, fmt.Errorf("%s: bad ar member header at %d", path, off)
		}
		members[name] = b[off+60 : off+60+size]
		off += 60 + size + size%2
	}
	pc := &pkgContents{Files: map[string]*entry{}, Scripts: map[string]string{}}
	control, data := members["control.tar.gz"], members["data.tar.gz"]
	if control == nil || data == nil {
		return nil, fmt.Errorf("%s: want control.tar.gz and data.tar.gz, have %v", path, keys(members))
	}
	conffiles := map[string]bool{}
	if err := eachTar(control, func(h *tar.Header, body []byte) {
		switch name := strings.TrimPrefix(h.Name, "./"); name {
		case "conffiles":
			for _, l := range strings.Fields(string(body)) {
				conffiles[l] = true
			}
		case "postinst", "prerm", "postrm", "preinst":
			pc.Scripts[name] = string(body)
		}
	}); err != nil {
		return nil, err
	}
	err = eachTar(data, func(h *tar.Header, body []byte) {
		p := "/" + strings.TrimPrefix(strings.TrimPrefix(h.Name, "."), "/")
		p = strings.TrimSuffix(p, "/")
		e := &entry{Path: p, Mode: h.FileInfo().Mode(), Link: h.Linkname, Data: body}
		pc.Files[p] = e
	})
	for p := range conffiles {
		if e := pc.Files[p]; e != nil {
			e.Config = true
		}
	}
	return pc, err
}

func eachTar(gz []byte, fn func(*tar.Header, []byte)) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		fn(h, body)
	}
}

// ---- .rpm ----

type rpmHeader map[uint32]rpmTag

type rpmTag struct {
	typ, count uint32
	data       []byte // from the tag's offset to the end of the store
}

func (h rpmHeader) strings(tag uint32) []string {
	t, ok := h[tag]
	if !ok {
		return nil
	}
	var s []string
	rest := t.data
	for i := uint32(0); i < t.count; i++ {
		n := bytes.IndexByte(rest, 0)
		if n < 0 {
			break
		}
		s = append(s, string(rest[:n]))
		rest = rest[n+1:]
	}
	return s
}

func (h rpmHeader) ints(tag uint32) []uint32 {
	t, ok := h[tag]
	if !ok {
		return nil
	}
	var v []uint32
	for i := uint32(0); i < t.count; i++ {
		switch t.typ {
		case 3: // INT16
			v = append(v, uint32(binary.BigEndian.Uint16(t.data[2*i:])))
		case 4: // INT32
			v = append(v, binary.BigEndian.Uint32(t.data[4*i:]))
		}
	}
	return v
}

// readRPMHeader reads one header structure at b[off:] and returns it and its end.
func readRPMHeader(b []byte, off int) (rpmHeader, int, error) {
	if off+16 > len(b) || !bytes.Equal(b[off:off+3], []byte{0x8e, 0xad, 0xe8}) {
		return nil, 0, fmt.Errorf("no rpm header magic at %d", off)
	}
	n := int(binary.BigEndian.Uint32(b[off+8:]))
	size := int(binary.BigEndian.Uint32(b[off+12:]))
	idx := off + 16
	store := idx + 16*n
	if store+size > len(b) {
		return nil, 0, fmt.Errorf("rpm header at %d runs past the file", off)
	}
	h := rpmHeader{}
	for i := 0; i < n; i++ {
		e := b[idx+16*i:]
		tag, typ := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])
		o, count := int(binary.BigEndian.Uint32(e[8:])), binary.BigEndian.Uint32(e[12:])
		if o > size {
			return nil, 0, fmt.Errorf("rpm tag %d: offset %d past the store", tag, o)
		}
		h[tag] = rpmTag{typ: typ, count: count, data: b[store+o : store+size]}
	}
	return h, store + size, nil
}

const (
	rpmTagPostIn     = 1024
	rpmTagPreUn      = 1025
	rpmTagPostUn     = 1026
	rpmTagFileFlags  = 1037
	rpmTagDirIndexes = 1116
	rpmTagBaseNames  = 1117
	rpmTagDirNames   = 1118
	rpmFileConfig    = 1 << 0
)

func readRPM(path string) (*pkgContents, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 96 || !bytes.Equal(b[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, fmt.Errorf("%s: no rpm lead", path)
	}
	_, end, err := readRPMHeader(b, 96) // the signature
	if err != nil {
		return nil, fmt.Errorf("%s: signature: %w", path, err)
	}
	end = (end + 7) &^ 7
	h, end, err := readRPMHeader(b, end)
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	pc := &pkgContents{Files: map[string]*entry{}, Scripts: map[string]string{}}
	for tag, name := range map[uint32]string{rpmTagPostIn: "postinst", rpmTagPreUn: "prerm", rpmTagPostUn: "postrm"} {
		if s := h.strings(tag); len(s) > 0 {
			pc.Scripts[name] = s[0]
		}
	}
	config := map[string]bool{}
	base, dirs, dirIdx, flags := h.strings(rpmTagBaseNames), h.strings(rpmTagDirNames), h.ints(rpmTagDirIndexes), h.ints(rpmTagFileFlags)
	for i := range base {
		if i < len(dirIdx) && i < len(flags) && flags[i]&rpmFileConfig != 0 {
			config[dirs[dirIdx[i]]+base[i]] = true
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(b[end:]))
	if err != nil {
		return nil, fmt.Errorf("%s: payload: %w", path, err)
	}
	if err := readCpio(bufio.NewReader(zr), func(e *entry) {
		e.Config = config[e.Path]
		pc.Files[e.Path] = e
	}); err != nil {
		return nil, fmt.Errorf("%s: payload: %w", path, err)
	}
	return pc, nil
}

// readCpio reads a "newc" cpio archive.
func readCpio(r io.Reader, fn func(*entry)) error {
	var off int64
	read := func(n int64) ([]byte, error) {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		off += n
		return b, err
	}
	pad := func() error {
		if p := (4 - off%4) % 4; p > 0 {
			_, err := read(p)
			return err
		}
		return nil
	}
	for {
		h, err := read(110)
		if err != nil {
			return err
		}
		if string(h[:6]) != "070701" {
			return fmt.Errorf("bad cpio magic %q", h[:6])
		}
		field := func(i int) int64 {
			v, _ := strconv.ParseInt(string(h[6+8*i:14+8*i]), 16, 64)
			return v
		}
		mode, size, namesize := field(1), field(6), field(11)
		nb, err := read(namesize)
		if err != nil {
			return err
		}
		name := string(nb[:namesize-1])
		if err := pad(); err != nil {
			return err
		}
		if name == "TRAILER!!!" {
			return nil
		}
		data, err := read(size)
		if err != nil {
			return err
		}
		if err := pad(); err != nil {
			return err
		}
		e := &entry{Path: "/" + strings.TrimPrefix(strings.TrimPrefix(name, "."), "/"), Mode: fs.FileMode(mode & 0o777)}
		switch mode & 0o170000 {
		case 0o040000:
			e.Mode |= fs.ModeDir
		case 0o120000:
			e.Mode |= fs.ModeSymlink
			e.Link = string(data)
		default:
			e.Data = data
		}
		fn(e)
	}
}

// ---- installing ----

// extract writes pc's files under root as a package manager would (modes kept; symlinks as
// symlinks).
func extract(pc *pkgContents, root string) error {
	for _, p := range sortedKeys(pc.Files) {
		e := pc.Files[p]
		dst := filepath.Join(root, e.Path)
		switch {
		case e.Mode.IsDir():
			if err := os.MkdirAll(dst, e.Mode.Perm()|0o700); err != nil {
				return err
			}
		case e.Mode&fs.ModeSymlink != 0:
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.Symlink(e.Link, dst); err != nil {
				return err
			}
		default:
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, e.Data, e.Mode.Perm()); err != nil {
				return err
			}
			if err := os.Chmod(dst, e.Mode.Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// sortedKeys: parents before children.
func sortedKeys[V any](m map[string]V) []string {
	s := keys(m)
	sort.Strings(s)
	return s
}
