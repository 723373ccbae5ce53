package server

import "sort"

// allocTable is the set of device allocations a session owns: every device pointer a client
// sends with a byte count is checked against it, so a copy past an allocation is refused before
// it reaches the driver.
type allocTable struct {
	bases []uint64 // sorted
	sizes map[uint64]uint64
}

func (t *allocTable) add(base, size uint64) {
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
func (t *allocTable) remove(base uint64) bool {
	if _, ok := t.sizes[base]; !ok {
		return false
	}
	delete(t.sizes, base)
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] >= base })
	t.bases = append(t.bases[:i], t.bases[i+1:]...)
	return true
}

// find returns the allocation containing [p, p+n), if any.
func (t *allocTable) find(p, n uint64) (base, size uint64, ok bool) {
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

func (t *allocTable) isBase(p uint64) bool {
	_, ok := t.sizes[p]
	return ok
}

func (t *allocTable) len() int { return len(t.bases) }
