package chaincode

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// month is a month's listening, validated and grouped for settlement:
// listeners and artists are numbered in lexical order (so comparing numbers
// compares the ids), and each listener's aggregates are contiguous in recs,
// in artist order. A million listeners with ten artists each is ten million
// aggregates: they are held as small fixed-size records, not as strings.
type month struct {
	listeners []string
	artists   []string
	start     []int // listener i's aggregates are recs[start[i]:start[i+1]]
	recs      []rec
	heard     []bool // listener i has an aggregate with seconds heard
}

// rec is one aggregate of a listener in a month.
type rec struct {
	artist  int32 // index into month.artists
	listens int64
	seconds int64
}

func (m *month) of(listener int) []rec { return m.recs[m.start[listener]:m.start[listener+1]] }

// numbersOK reports whether an aggregate's numbers pass checkAggregate; it
// is the hot path's inline version, and on false checkAggregate says why.
func numbersOK(a *Aggregate) bool {
	return a.Listens >= 0 && a.SecondsHeard >= 0 && a.SecondsHeard <= MaxSecondsHeard &&
		(a.SecondsHeard == 0 || a.Listens > 0) && a.Listens <= a.SecondsHeard/MinListenSeconds
}

// groupMonth validates the month's aggregates and groups them. The first
// invalid aggregate in the given order is the error, as checkAggregate
// words it; then the first repeated listener × artist in lexical order.
//
// The aggregates are cut into parts, one per worker. In each part, listener
// and artist ids are interned with maps (a listener's aggregates usually
// come together, so the previous one is tried first) and each distinct id
// is validated once. Each part's ids are sorted, the parts' sorted lists
// merged into the month's, and a counting sort by listener places every
// aggregate, each part writing its own places. Maps are only looked up,
// never iterated, and every part's output has a fixed place: the result is
// the same for any number of workers.
func groupMonth(op string, aggs []Aggregate, workers, minPart int) (*month, error) {
	if len(aggs) > math.MaxInt32 {
		return nil, errorf(op, KindInvalid, "more than "+strconv.Itoa(math.MaxInt32)+" aggregates in one month")
	}
	n := len(aggs)
	parts := splitRange(n, workers, minPart)
	type part struct {
		lo, hi         int
		lnames, anames []string
		lrank, arank   []int32 // local number → number in the month
		bad            int     // first invalid aggregate, or -1
	}
	ps := make([]part, len(parts))
	lids := make([]int32, n) // local numbers, then the month's
	aids := make([]int32, n)
	parallel(len(parts), func(p int) {
		pt := &ps[p]
		pt.lo, pt.hi, pt.bad = parts[p][0], parts[p][1], -1
		// Sized for about ten aggregates per listener: growing a map of a
		// million ids costs more than the memory spared.
		lmap := make(map[string]int32, (pt.hi-pt.lo)/10)
		amap := make(map[string]int32, min((pt.hi-pt.lo)/10, 1<<17))
		bits := recentBits
		for bits > 4 && 1<<(bits+2) > pt.hi-pt.lo { // small months need no big cache
			bits--
		}
		recent := make([]recentArtist, 1<<bits)
		prevL, prevLID := "", int32(-1)
		for i := pt.lo; i < pt.hi; i++ {
			a := &aggs[i]
			if prevLID < 0 || a.Listener != prevL {
				id, ok := lmap[a.Listener]
				if !ok {
					if !validID(a.Listener) {
						pt.bad = i
						return
					}
					id = int32(len(pt.lnames))
					lmap[a.Listener] = id
					pt.lnames = append(pt.lnames, a.Listener)
				}
				prevL, prevLID = a.Listener, id
			}
			var aid int32
			if c := &recent[recentSlot(a.Artist, bits)]; c.id > 0 && c.artist == a.Artist {
				aid = c.id - 1
			} else {
				id, ok := amap[a.Artist]
				if !ok {
					if _, _, ok := splitArtist(a.Artist); !ok {
						pt.bad = i
						return
					}
					id = int32(len(pt.anames))
					amap[a.Artist] = id
					pt.anames = append(pt.anames, a.Artist)
				}
				aid = id
				*c = recentArtist{a.Artist, id + 1}
			}
			if !numbersOK(a) {
				pt.bad = i
				return
			}
			lids[i], aids[i] = prevLID, aid
		}
	})
	for _, pt := range ps {
		if pt.bad >= 0 {
			return nil, checkAggregate(op, aggs[pt.bad])
		}
	}

	// The month's listeners and artists: each part's sorted (in parallel),
	// then merged.
	m := &month{}
	lsorted := make([][]string, len(ps))
	asorted := make([][]string, len(ps))
	parallel(len(ps), func(p int) {
		lsorted[p], ps[p].lrank = sortIDs(ps[p].lnames)
		asorted[p], ps[p].arank = sortIDs(ps[p].anames)
	})
	var lmerged, amerged [][]int32 // part → sorted position → number in the month
	m.listeners, lmerged = mergeIDs(lsorted)
	m.artists, amerged = mergeIDs(asorted)
	parallel(len(ps), func(p int) {
		for id, r := range ps[p].lrank {
			ps[p].lrank[id] = lmerged[p][r]
		}
		for id, r := range ps[p].arank {
			ps[p].arank[id] = amerged[p][r]
		}
	})

	// Counting sort by listener: each part counts its aggregates per
	// listener, and fills, for each listener, the places after those of the
	// parts before it.
	L := len(m.listeners)
	counts := make([][]int32, len(ps))
	parallel(len(ps), func(p int) {
		counts[p] = make([]int32, L)
		lrank := ps[p].lrank
		for i := ps[p].lo; i < ps[p].hi; i++ {
			r := lrank[lids[i]]
			lids[i] = r
			counts[p][r]++
		}
	})
	m.start = make([]int, L+1)
	for r := range L {
		next := m.start[r]
		for p := range ps {
			c := int(counts[p][r])
			counts[p][r] = int32(next) // now where part p's aggregates of r go
			next += c
		}
		m.start[r+1] = next
	}
	m.recs = make([]rec, n)
	parallel(len(ps), func(p int) {
		fill, arank := counts[p], ps[p].arank
		for i := ps[p].lo; i < ps[p].hi; i++ {
			r := lids[i]
			m.recs[fill[r]] = rec{arank[aids[i]], aggs[i].Listens, aggs[i].SecondsHeard}
			fill[r]++
		}
	})

	// Each listener's aggregates in artist order; a repeated artist is
	// adjacent then. Parts are sorted in parallel, and the first repeat in
	// listener order is reported whichever part found it first.
	lparts := splitRange(len(m.listeners), workers, max(1, minPart/8))
	dup := make([]int, len(lparts))
	m.heard = make([]bool, len(m.listeners))
	parallel(len(lparts), func(p int) {
		dup[p] = -1
		for l := lparts[p][0]; l < lparts[p][1]; l++ {
			rs := m.of(l)
			for _, r := range rs {
				if r.seconds > 0 {
					m.heard[l] = true
					break
				}
			}
			sortRecs(rs, byArtist)
			for j := 1; j < len(rs); j++ {
				if rs[j].artist == rs[j-1].artist {
					dup[p] = l
					return
				}
			}
		}
	})
	for _, l := range dup {
		if l >= 0 {
			rs := m.of(l)
			for j := 1; j < len(rs); j++ {
				if rs[j].artist == rs[j-1].artist {
					return nil, errorf(op, KindInvalid, "two aggregates for "+m.listeners[l]+"×"+m.artists[rs[j].artist])
				}
			}
		}
	}
	return m, nil
}

// recentArtist is a slot of the small cache in front of the artist map:
// ten million lookups in a map of a hundred thousand artists miss the
// processor's caches on most of them, while a few thousand slots stay in
// them and hold the most heard artists most of the time. A slot is used only
// when its artist equals the one looked up, so it changes no number.
type recentArtist struct {
	artist string
	id     int32 // number + 1; 0 when empty
}

const recentBits = 13 // 8,192 slots, 200 KB: the most heard artists of a large month

// recentSlot places an artist in a cache of 1<<bits slots from its length
// and last bytes (artist ids differ most at their end), without reading it
// all.
func recentSlot(a string, bits int) int {
	h := uint32(len(a))
	for i := max(0, len(a)-6); i < len(a); i++ {
		h = h*131 + uint32(a[i])
	}
	return int((h * 2654435761) >> (32 - bits))
}

// sortIDs returns the distinct ids in lexical order, and for each id's
// first-seen number its position in that order.
func sortIDs(names []string) ([]string, []int32) {
	type named struct {
		name string
		id   int32
	}
	byName := make([]named, len(names))
	for i, s := range names {
		byName[i] = named{s, int32(i)}
	}
	slices.SortFunc(byName, func(a, b named) int { return strings.Compare(a.name, b.name) })
	sorted := make([]string, len(names))
	rank := make([]int32, len(names))
	for i, e := range byName {
		sorted[i] = e.name
		rank[e.id] = int32(i)
	}
	return sorted, rank
}

// byArtist and byRank order records: by artist number, and best heard
// first (seconds, then listens, more first; then artist number).
func byArtist(a, b rec) int { return cmp.Compare(a.artist, b.artist) }

func byRank(a, b rec) int {
	if a.seconds != b.seconds {
		return cmp.Compare(b.seconds, a.seconds)
	}
	if a.listens != b.listens {
		return cmp.Compare(b.listens, a.listens)
	}
	return cmp.Compare(a.artist, b.artist)
}

// mergeIDs merges sorted lists of distinct ids into one sorted list of
// distinct ids, and tells for each list where its ids went.
func mergeIDs(lists [][]string) ([]string, [][]int32) {
	if len(lists) == 1 {
		pos := make([]int32, len(lists[0]))
		for i := range pos {
			pos[i] = int32(i)
		}
		return lists[0], [][]int32{pos}
	}
	total := 0
	where := make([][]int32, len(lists))
	for i, l := range lists {
		total += len(l)
		where[i] = make([]int32, len(l))
	}
	out := make([]string, 0, total)
	next := make([]int, len(lists))
	for {
		least := -1
		for i, l := range lists {
			if next[i] < len(l) && (least < 0 || l[next[i]] < lists[least][next[least]]) {
				least = i
			}
		}
		if least < 0 {
			return out, where
		}
		id := lists[least][next[least]]
		for i, l := range lists {
			if next[i] < len(l) && l[next[i]] == id {
				where[i][next[i]] = int32(len(out))
				next[i]++
			}
		}
		out = append(out, id)
	}
}

// sortRecs sorts a listener's few records: insertion sort for the usual
// dozen, the library's sort beyond. order is byArtist or byRank.
func sortRecs(rs []rec, order func(a, b rec) int) {
	if len(rs) > 24 {
		slices.SortFunc(rs, order)
		return
	}
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && order(rs[j], rs[j-1]) < 0; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// digest identifies the totals a month was settled with, whatever order
// they were given in: "v2:" and the SHA-256 (hex) of the listening in a
// canonical binary form (see doc.go), every number a uvarint and every id
// preceded by its length, so that two different months never have the same
// bytes. A binary form is a tenth of the size of one line of text per
// aggregate, and hashing it a tenth of the time.
func (m *month) digest() string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	flush := func() {
		if len(buf) > 60<<10 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	buf = append(buf, digestTag...)
	buf = binary.AppendUvarint(buf, uint64(len(m.artists)))
	for _, a := range m.artists {
		buf = binary.AppendUvarint(buf, uint64(len(a)))
		buf = append(buf, a...)
		flush()
	}
	buf = binary.AppendUvarint(buf, uint64(len(m.listeners)))
	for l, name := range m.listeners {
		rs := m.of(l)
		buf = binary.AppendUvarint(buf, uint64(len(name)))
		buf = append(buf, name...)
		buf = binary.AppendUvarint(buf, uint64(len(rs)))
		for _, r := range rs {
			buf = binary.AppendUvarint(buf, uint64(r.artist))
			buf = binary.AppendUvarint(buf, uint64(r.listens))
			buf = binary.AppendUvarint(buf, uint64(r.seconds))
		}
		flush()
	}
	h.Write(buf)
	return digestPrefix + hex.EncodeToString(h.Sum(nil))
}

const (
	digestTag    = "9ten listening v2\n"
	digestPrefix = "v2:"
)

// sameListening reports whether the month is the one a stored digest was
// made from. A digest without the "v2:" prefix is of the first form, which
// months settled before the binary form have: SHA-256 (hex) of one line
// "listener TAB artist TAB listens TAB seconds" per aggregate, in the same
// order.
func (m *month) sameListening(digest string) bool {
	if strings.HasPrefix(digest, digestPrefix) {
		return digest == m.digest()
	}
	h := sha256.New()
	var line []byte
	for l, name := range m.listeners {
		for _, r := range m.of(l) {
			line = append(line[:0], name...)
			line = append(line, '\t')
			line = append(line, m.artists[r.artist]...)
			line = append(line, '\t')
			line = strconv.AppendInt(line, r.listens, 10)
			line = append(line, '\t')
			line = strconv.AppendInt(line, r.seconds, 10)
			line = append(line, '\n')
			h.Write(line)
		}
	}
	return digest == hex.EncodeToString(h.Sum(nil))
}

// splitRange cuts [0, n) into at most workers contiguous parts of at least
// minPart items each (one part when n is small).
func splitRange(n, workers, minPart int) [][2]int {
	parts := max(1, min(workers, n/max(1, minPart)))
	out := make([][2]int, parts)
	for p := range parts {
		out[p] = [2]int{p * n / parts, (p + 1) * n / parts}
	}
	return out
}

// parallel runs f(0) … f(n-1), each on its own goroutine when n > 1, and
// waits for all. Whatever runs in parallel writes only to its own part of
// the output, so the result does not depend on the scheduling.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}
