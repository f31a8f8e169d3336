package index

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	bindex "github.com/blevesearch/bleve_index_api"
)

// BrowseOrder orders a browse: documents meeting First (when set) come
// first, then by the day of the date field Field (FieldStart or FieldEnd),
// newest first when Desc, documents without it last; equal days by id.
type BrowseOrder struct {
	First *Condition
	Field string
	Desc  bool
}

// Browse lists, without a text query, the documents passing f's filters
// in order, skipping from and keeping size, and counts f's facets, all
// from the snapshot's document sets: no hit is visited through Bleve, and
// only the page's documents are read.
func (r *Reader) Browse(ctx context.Context, f Faceted, order BrowseOrder, from, size int) (docs []*Document, counts *FacetCounts, err error) {
	err = func() error {
		sets := r.sets
		groups, err := sets.filters(f.Filters)
		if err != nil {
			return err
		}
		live := sets.live()
		if counts, err = sets.count(live, groups, f.Facets); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pass := live
		if p := intersect(groups, ""); p != nil {
			pass = roaring.And(p, live)
		}
		nums, err := sets.top(pass, order, from+size)
		if err != nil {
			return err
		}
		docs = []*Document{}
		if from >= len(nums) {
			return nil
		}
		for _, n := range nums[from:] {
			d, err := sets.document(n)
			if err != nil {
				return err
			}
			docs = append(docs, d)
		}
		return nil
	}()
	if err != nil {
		return nil, nil, fmt.Errorf("browse: %w", err)
	}
	return docs, counts, nil
}

// document reads the stored source of document number n of the snapshot,
// straight from its segment: no look-up by id.
func (d *docSets) document(n uint32) (*Document, error) {
	i := sort.Search(len(d.offsets), func(i int) bool { return d.offsets[i] > uint64(n) }) - 1
	if i < 0 {
		return nil, fmt.Errorf("document %d is not in the snapshot", n)
	}
	var src []byte
	err := d.snap.Segments()[i].VisitDocument(uint64(n)-d.offsets[i], func(field string, _ byte, value []byte, _ []uint64) bool {
		if field != FieldSource {
			return true
		}
		src = append([]byte(nil), value...)
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("read document %d: %w", n, err)
	}
	if src == nil {
		return nil, fmt.Errorf("document %d has no stored source", n)
	}
	return DecodeSource(src)
}

// top is the first n documents of pass in order, ties on the day broken by
// id, as Bleve's date sort followed by its id sort orders them.
func (d *docSets) top(pass *roaring.Bitmap, order BrowseOrder, n int) ([]uint32, error) {
	if n <= 0 || pass.IsEmpty() {
		return nil, nil
	}
	d.mu.Lock()
	days, err := d.dates(order.Field)
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var first *roaring.Bitmap
	if order.First != nil {
		if first, err = d.condition(*order.First); err != nil {
			return nil, err
		}
	}
	// key orders documents, smaller first: the First group, then having
	// the date, then the day in the asked direction.
	key := func(num uint32) int64 {
		var k int64
		if first != nil && !first.Contains(num) {
			k |= 1 << 40
		}
		day := days[num]
		switch {
		case day == NoDay:
			k |= 1 << 39
		case order.Desc:
			k |= int64(math.MaxInt32) - int64(day)
		default:
			k |= int64(day) - math.MinInt32
		}
		return k
	}
	// A bounded max-heap keeps the n smallest keys seen.
	h := make(keyHeap, 0, n)
	it := pass.ManyIterator()
	buf := make([]uint32, 4096)
	for {
		got := it.NextMany(buf)
		if got == 0 {
			break
		}
		for _, num := range buf[:got] {
			k := key(num)
			if len(h) < n {
				h.push(keyed{k, num})
			} else if k < h[0].key {
				h[0] = keyed{k, num}
				h.down(0)
			}
		}
	}
	// Documents sharing the last kept key may be more than fit: gather
	// them all so that the id decides which are in.
	boundary := h[0].key
	var kept []keyed
	for _, e := range h {
		if e.key != boundary {
			kept = append(kept, e)
		}
	}
	it = pass.ManyIterator()
	for {
		got := it.NextMany(buf)
		if got == 0 {
			break
		}
		for _, num := range buf[:got] {
			if key(num) == boundary {
				kept = append(kept, keyed{boundary, num})
			}
		}
	}
	ids := make(map[uint32]string, len(kept))
	for _, e := range kept {
		id, err := d.snap.ExternalID(bindex.NewIndexInternalID(nil, uint64(e.num)))
		if err != nil {
			return nil, fmt.Errorf("id of document %d: %w", e.num, err)
		}
		ids[e.num] = id
	}
	sort.Slice(kept, func(i, j int) bool {
		if kept[i].key != kept[j].key {
			return kept[i].key < kept[j].key
		}
		return ids[kept[i].num] < ids[kept[j].num]
	})
	if len(kept) > n {
		kept = kept[:n]
	}
	out := make([]uint32, len(kept))
	for i, e := range kept {
		out[i] = e.num
	}
	return out, nil
}

type keyed struct {
	key int64
	num uint32
}

// keyHeap is a max-heap on key.
type keyHeap []keyed

func (h *keyHeap) push(e keyed) {
	*h = append(*h, e)
	for i := len(*h) - 1; i > 0; {
		p := (i - 1) / 2
		if (*h)[p].key >= (*h)[i].key {
			break
		}
		(*h)[p], (*h)[i] = (*h)[i], (*h)[p]
		i = p
	}
}

func (h keyHeap) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(h) && h[l].key > h[big].key {
			big = l
		}
		if r := l + 1; r < len(h) && h[r].key > h[big].key {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
