package client

import (
	"encoding/binary"
	"sync"

	"github.com/vgpu/vgpu/internal/api"
)

// Answers of Cached rows (api.Func.Cached) from a cache: cuBLASLt's heuristic, which PyTorch asks
// before every GEMM about objects it created for that GEMM. Their handles are minted
// (api.P.Minted), so each GEMM's differ: the client knows each live minted handle's object by
// its content instead, the call that created it and each call that set something on it since
// (api.P.Sets), in order, as they were sent. A Cached call's key is its row and, per parameter,
// the content of a minted handle, the value of another handle or of a scalar, the bytes of an
// input, the size of an output. Its answer, the outputs' bytes, is kept when the worker answered
// 0 and had reported no async failure: a create or setter the worker failed leaves an object
// other than its content says. A minted handle whose content is unknown (destroyed, never
// minted, or grown past memoContentMax) makes the call go to the worker. A call that
// frees a handle of a type a Cached row takes by value (cublasDestroy_v2) empties the cache, as a
// new handle may get the old value.

var memo struct {
	mu      sync.Mutex
	content map[uint64][]byte // a live minted handle, as the program holds it -> its content
	answers map[string][]byte // a Cached call's key -> its outputs, one after another
	gen     uint64            // how often answers was emptied (an answer asked for before is not kept)
	hits    uint64            // calls answered here (VGPU_STATS)
}

const (
	memoContentMax = 4 << 10 // bytes of content kept of one object
	memoAnswersMax = 4096    // answers kept; the cache starts again when full
)

// What a row means to the cache (memoFacts).
const (
	memoMints  = 1 << iota // the content of its minted handle starts with the call
	memoSets               // the content of its Sets handle grows by the call
	memoFrees              // it frees a handle: a minted one's content, or the cache (memoByValue)
	memoCached             // it is answered from the cache
)

// memoFacts is what each row means to the cache; memoMintedType the handle types that Minted
// parameters create, memoByValue those that Cached rows take by value.
var memoFacts, memoMintedType, memoByValue = func() ([]uint8, map[api.HType]bool, map[api.HType]bool) {
	facts, minted, byValue := make([]uint8, len(api.Table)), map[api.HType]bool{}, map[api.HType]bool{}
	for i := range api.Table {
		for _, p := range api.Table[i].Params {
			if p.Minted {
				minted[p.H] = true
			}
		}
	}
	for i := range api.Table {
		f := &api.Table[i]
		for _, p := range f.Params {
			if f.Cached && p.Kind == api.Handle && !minted[p.H] {
				byValue[p.H] = true
			}
		}
	}
	for i := range api.Table {
		f := &api.Table[i]
		if f.Cached {
			facts[i] |= memoCached
		}
		for _, p := range f.Params {
			switch {
			case p.Minted:
				facts[i] |= memoMints
			case p.Sets:
				facts[i] |= memoSets
			case p.Kind == api.Handle && p.Frees && (minted[p.H] || byValue[p.H]):
				facts[i] |= memoFrees
			}
		}
	}
	return facts, minted, byValue
}()

// memoNote records what call c, sent (async) or answered 0, did to the objects the cache knows.
func memoNote(c *call) {
	memo.mu.Lock()
	defer memo.mu.Unlock()
	for i := range c.f.Params {
		p := &c.f.Params[i]
		switch {
		case p.Minted:
			if memo.content == nil {
				memo.content = map[uint64][]byte{}
			}
			h := *(*uint64)(ptrAt(c.a[i])) // minted and written by marshal
			if b, ok := appendContent(nil, c, i); ok {
				memo.content[h] = b
			}
		case p.Sets:
			b, ok := memo.content[c.a[i]]
			if ok {
				b, ok = appendContent(b, c, i)
			}
			if ok && len(b) <= memoContentMax {
				memo.content[c.a[i]] = b
			} else {
				delete(memo.content, c.a[i])
			}
		case p.Kind == api.Handle && p.Frees && memoMintedType[p.H]:
			delete(memo.content, c.a[i])
		case p.Kind == api.Handle && p.Frees && memoByValue[p.H]:
			clear(memo.answers)
			memo.gen++
		}
	}
}

// appendContent appends call c to b, as part of the content of the object its parameter skip
// names: the row, then each other parameter's value or input bytes. ok is false for an input
// that cannot be read.
func appendContent(b []byte, c *call, skip int) ([]byte, bool) {
	b = binary.AppendUvarint(b, uint64(c.id))
	for i := range c.f.Params {
		p := &c.f.Params[i]
		if i == skip {
			continue
		}
		switch p.Kind {
		case api.Scalar, api.Handle, api.DevPtr, api.HostPtr:
			b = binary.AppendUvarint(b, c.a[i])
		case api.InBuf, api.InOutVal:
			n, err := c.size(p.Size, p.Elem)
			if err != nil || c.a[i] == 0 && n > 0 {
				return b, false
			}
			b = binary.AppendUvarint(b, uint64(n))
			b = append(b, hostBytes(c.a[i], n)...)
		case api.InStr:
			if c.a[i] == 0 {
				return b, false
			}
			s := cStringBytes(c.a[i], 4096)
			b = append(binary.AppendUvarint(b, uint64(len(s))), s...)
		}
	}
	return b, true
}

// memoOut is an output of a Cached call: where it goes and how long it is.
type memoOut struct {
	ptr uint64
	n   int
}

// memoKey is the key of Cached call c and its outputs; ok is false when the call cannot be
// answered from the cache (a minted handle the cache does not know, an output that is NULL or
// of a size that is out of range: the worker or marshal answers those). memo.mu is held.
func memoKey(c *call) (key string, outs []memoOut, ok bool) {
	b := binary.AppendUvarint(nil, uint64(c.id))
	for i := range c.f.Params {
		p := &c.f.Params[i]
		v := c.a[i]
		switch p.Kind {
		case api.Handle:
			if !memoMintedType[p.H] {
				b = binary.AppendUvarint(b, v)
				continue
			}
			content, known := memo.content[v]
			if !known {
				return "", nil, false
			}
			b = binary.AppendUvarint(b, uint64(len(content)))
			b = append(b, content...)
		case api.Scalar:
			b = binary.AppendUvarint(b, v)
		case api.InBuf:
			n, err := c.size(p.Size, p.Elem)
			if err != nil || v == 0 && n > 0 {
				return "", nil, false
			}
			b = binary.AppendUvarint(b, uint64(n))
			b = append(b, hostBytes(v, n)...)
		case api.OutVal, api.OutBuf:
			elem := 1
			if p.Kind == api.OutBuf {
				elem = p.Elem
			}
			n, err := c.size(p.Size, elem)
			if err != nil || v == 0 {
				return "", nil, false
			}
			b = binary.AppendUvarint(b, uint64(n))
			outs = append(outs, memoOut{v, n})
		default: // (api.Validate keeps other kinds off Cached rows)
			return "", nil, false
		}
	}
	return string(b), outs, true
}

// memoMiss is a Cached call the cache could not answer: the key and outputs to keep its answer
// by (no key: not to be kept).
type memoMiss struct {
	key  string
	outs []memoOut
	gen  uint64
}

// memoLookup answers Cached call c from the cache (hit: its outputs are written, the result is
// 0); on a miss it returns what memoStore needs.
func memoLookup(c *call) (miss memoMiss, hit bool) {
	memo.mu.Lock()
	defer memo.mu.Unlock()
	key, outs, ok := memoKey(c)
	if !ok {
		return memoMiss{}, false
	}
	ans, found := memo.answers[key]
	if !found {
		return memoMiss{key, outs, memo.gen}, false
	}
	for _, o := range outs {
		copy(hostBytes(o.ptr, o.n), ans[:o.n])
		ans = ans[o.n:]
	}
	memo.hits++
	return memoMiss{}, true
}

// memoStore keeps the answer of a Cached call the worker answered with result: its outputs as
// the reply wrote them. Not when the call failed or an async failure waits to be reported
// (session s): an object may then not be what its content says.
func memoStore(m memoMiss, s *session, result int64) {
	if m.key == "" || result != 0 {
		return
	}
	if s.deferredPending() {
		return
	}
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if memo.gen != m.gen {
		return // a handle the key holds by value was freed meanwhile
	}
	var ans []byte
	for _, o := range m.outs {
		ans = append(ans, hostBytes(o.ptr, o.n)...)
	}
	if memo.answers == nil || len(memo.answers) >= memoAnswersMax {
		memo.answers = map[string][]byte{}
		memo.gen++
	}
	memo.answers[m.key] = ans
}
