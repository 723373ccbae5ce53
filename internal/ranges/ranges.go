// Package ranges keeps a set of address ranges (device allocations), so every pointer with a
// byte count can be checked against it.
package ranges

import "sort"

// Set is a set of non-overlapping ranges [base, base+size). The server keeps one per session: every device pointer a client
// sends with a byte count is checked against it, so a copy past an allocation is refused before
// it reaches the driver.
type Set struct {
	bases []uint64 // sorted
	sizes map[uint64]uint64
}

func (t *Set) Add(base, size uint64) {
	if t.sizes == nil {
		t.sizes = map[uint64]uint64{}
	}
	if _, ok := t.sizes[base]; !ok {
		i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] >= base })
		t.bases = append(t.bases, 0)
		copy(t.bases[i+1:], t.bases[i:])
		t.bases[i] = base
	}
	t.sizes[base] = size
}

// remove deletes the allocation starting exactly at base.
func (t *Set) Remove(base uint64) bool {
	if _, ok := t.sizes[base]; !ok {
		return false
	}
	delete(t.sizes, base)
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] >= base })
	t.bases = append(t.bases[:i], t.bases[i+1:]...)
	return true
}

// find returns the allocation containing [p, p+n), if any.
func (t *Set) Find(p, n uint64) (base, size uint64, ok bool) {
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] > p }) - 1
	if i < 0 {
		return 0, 0, false
	}
	base = t.bases[i]
	size = t.sizes[base]
	off := p - base
	if off > size || n > size-off {
		return 0, 0, false
	}
	if n == 0 && off == size && size != 0 {
		return 0, 0, false
	}
	return base, size, true
}

// Overlaps reports whether a range of the set shares a byte with [base, base+size) (a size of 0
// counts as 1).
func (t *Set) Overlaps(base, size uint64) bool {
	end := base + max(size, 1)
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] >= end }) - 1
	if i < 0 {
		return false
	}
	b := t.bases[i]
	return b+max(t.sizes[b], 1) > base
}

func (t *Set) IsBase(p uint64) bool {
	_, ok := t.sizes[p]
	return ok
}

func (t *Set) Len() int { return len(t.bases) }
