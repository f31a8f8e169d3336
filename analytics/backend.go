package analytics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// backend keeps the counts: a bbolt file, or memory.
type backend interface {
	// write adds batch to the counts and drops the days before keepFrom.
	// A query new to a day that already holds maxQueries queries is
	// counted in the day's other totals.
	write(batch map[dayQuery]Counts, keepFrom string, maxQueries int) error
	// scan calls fn for every query counted on a day in [from, to].
	scan(from, to string, fn func(day, query string, c Counts)) error
	// scanOther calls fn for every day in [from, to] with other totals.
	scanOther(from, to string, fn func(day string, c Counts)) error
	close() error
}

// sortedKeys orders a batch, so which new queries still fit in a day is
// decided the same way every time.
func sortedKeys(batch map[dayQuery]Counts) []dayQuery {
	return slices.SortedFunc(maps.Keys(batch), func(a, b dayQuery) int {
		if a.day != b.day {
			if a.day < b.day {
				return -1
			}
			return 1
		}
		switch {
		case a.query < b.query:
			return -1
		case a.query > b.query:
			return 1
		}
		return 0
	})
}

// memBackend is the store of a searchd without an index directory.
type memBackend struct {
	days  map[string]map[string]Counts
	other map[string]Counts
}

func newMemBackend() *memBackend {
	return &memBackend{days: map[string]map[string]Counts{}, other: map[string]Counts{}}
}

func (m *memBackend) write(batch map[dayQuery]Counts, keepFrom string, maxQueries int) error {
	for day := range m.days {
		if day < keepFrom {
			delete(m.days, day)
		}
	}
	for day := range m.other {
		if day < keepFrom {
			delete(m.other, day)
		}
	}
	for _, k := range sortedKeys(batch) {
		if k.day < keepFrom {
			continue
		}
		qs := m.days[k.day]
		if qs == nil {
			qs = map[string]Counts{}
			m.days[k.day] = qs
		}
		c, ok := qs[k.query]
		if !ok && len(qs) >= maxQueries {
			o := m.other[k.day]
			o.Add(batch[k])
			m.other[k.day] = o
			continue
		}
		c.Add(batch[k])
		qs[k.query] = c
	}
	return nil
}

func (m *memBackend) scan(from, to string, fn func(day, query string, c Counts)) error {
	for _, day := range slices.Sorted(maps.Keys(m.days)) {
		if day < from || day > to {
			continue
		}
		for q, c := range m.days[day] {
			fn(day, q, c)
		}
	}
	return nil
}

func (m *memBackend) scanOther(from, to string, fn func(day string, c Counts)) error {
	for day, c := range m.other {
		if day >= from && day <= to {
			fn(day, c)
		}
	}
	return nil
}

func (m *memBackend) close() error { return nil }

// The bbolt file: "days" holds a bucket per day (YYYY-MM-DD, so byte
// order is date order) of query -> counts; "other" holds day -> the counts
// of queries beyond the day's bound; "meta" the format version.
var (
	bucketDays    = []byte("days")
	bucketOther   = []byte("other")
	bucketMeta    = []byte("meta")
	keyVersion    = []byte("version")
	formatVersion = []byte("1")
)

type boltBackend struct {
	path string
	db   *bolt.DB
	// distinct caches how many queries a day's bucket holds.
	distinct map[string]int
}

func openBolt(path string) (b *boltBackend, err error) {
	// bbolt asserts on a page that is not what it should be, and a file
	// cut short faults on the mapped range: either must refuse the file,
	// not kill the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("open analytics %s: the file is damaged (%v); move it away to start counting afresh", path, r)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open analytics %s: another process holds it (another searchd on the same index?)", path)
	}
	if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) || errors.Is(err, bolt.ErrVersionMismatch) {
		return nil, fmt.Errorf("open analytics %s: %w: it is not a query-analytics file or it is damaged; move it away to start counting afresh", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open analytics %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch v := meta.Get(keyVersion); {
		case v == nil:
			if err := meta.Put(keyVersion, formatVersion); err != nil {
				return err
			}
		case string(v) != string(formatVersion):
			return fmt.Errorf("format version %q, this binary reads %q", v, formatVersion)
		}
		for _, name := range [][]byte{bucketDays, bucketOther} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open analytics %s: %w", path, err)
	}
	return &boltBackend{path: path, db: db, distinct: map[string]int{}}, nil
}

func (b *boltBackend) write(batch map[dayQuery]Counts, keepFrom string, maxQueries int) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		days, other := tx.Bucket(bucketDays), tx.Bucket(bucketOther)
		var old [][]byte
		c := days.Cursor()
		for k, _ := c.First(); k != nil && string(k) < keepFrom; k, _ = c.Next() {
			old = append(old, slices.Clone(k))
		}
		for _, k := range old {
			if err := days.DeleteBucket(k); err != nil {
				return err
			}
			delete(b.distinct, string(k))
		}
		old = old[:0]
		c = other.Cursor()
		for k, _ := c.First(); k != nil && string(k) < keepFrom; k, _ = c.Next() {
			old = append(old, slices.Clone(k))
		}
		for _, k := range old {
			if err := other.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range sortedKeys(batch) {
			if k.day < keepFrom {
				continue
			}
			day, err := days.CreateBucketIfNotExists([]byte(k.day))
			if err != nil {
				return err
			}
			n, ok := b.distinct[k.day]
			if !ok {
				n = day.Stats().KeyN
			}
			target, key := day, []byte(k.query)
			prev, known := decodeCounts(day.Get(key))
			if !known {
				if n >= maxQueries {
					target, key = other, []byte(k.day)
					prev, _ = decodeCounts(other.Get(key))
				} else {
					n++
				}
			}
			b.distinct[k.day] = n
			prev.Add(batch[k])
			if err := target.Put(key, encodeCounts(prev)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *boltBackend) scan(from, to string, fn func(day, query string, c Counts)) error {
	return b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDays).Cursor()
		for k, _ := c.Seek([]byte(from)); k != nil && string(k) <= to; k, _ = c.Next() {
			day := tx.Bucket(bucketDays).Bucket(k)
			if day == nil {
				continue
			}
			if err := day.ForEach(func(q, v []byte) error {
				counts, ok := decodeCounts(v)
				if !ok {
					return fmt.Errorf("analytics %s: the counts of %s on %s are damaged", b.path, q, k)
				}
				fn(string(k), string(q), counts)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *boltBackend) scanOther(from, to string, fn func(day string, c Counts)) error {
	return b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOther).Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && string(k) <= to; k, v = c.Next() {
			counts, ok := decodeCounts(v)
			if !ok {
				return fmt.Errorf("analytics %s: the other counts of %s are damaged", b.path, k)
			}
			fn(string(k), counts)
		}
		return nil
	})
}

func (b *boltBackend) close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close analytics %s: %w", b.path, err)
	}
	return nil
}

// encodeCounts is five unsigned varints and the last-seen Unix second.
func encodeCounts(c Counts) []byte {
	out := make([]byte, 0, 24)
	for _, n := range []uint64{c.Searches, c.ZeroResults, c.Relaxed, c.ClickedSearches, c.Clicks} {
		out = binary.AppendUvarint(out, n)
	}
	var last int64
	if !c.LastSeen.IsZero() {
		last = c.LastSeen.Unix()
	}
	return binary.AppendVarint(out, last)
}

// decodeCounts reads encodeCounts' form; ok is false for nil or damaged
// bytes.
func decodeCounts(b []byte) (c Counts, ok bool) {
	if b == nil {
		return Counts{}, false
	}
	fields := []*uint64{&c.Searches, &c.ZeroResults, &c.Relaxed, &c.ClickedSearches, &c.Clicks}
	for _, f := range fields {
		n, size := binary.Uvarint(b)
		if size <= 0 {
			return Counts{}, false
		}
		*f, b = n, b[size:]
	}
	last, size := binary.Varint(b)
	if size <= 0 || size != len(b) {
		return Counts{}, false
	}
	if last != 0 {
		c.LastSeen = time.Unix(last, 0).UTC()
	}
	return c, true
}
