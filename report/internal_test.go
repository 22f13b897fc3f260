package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	nineten "nineten.dev"
)

// TestMerkleProofs: for trees of 1 to 33 lines, every line's proof checks
// against the root, and fails for another line, index or root.
func TestMerkleProofs(t *testing.T) {
	for n := 1; n <= 33; n++ {
		var leaves [][]byte
		for i := range n {
			leaves = append(leaves, leafHash(fmt.Appendf(nil, "line %d", i)))
		}
		root := merkleRoot(leaves)
		for m := range n {
			p := merkleProof(m, leaves)
			if !verifyProof(m, n, leaves[m], p, root) {
				t.Fatalf("n=%d: the proof of line %d does not verify", n, m)
			}
			if verifyProof(m, n, leafHash([]byte("forged")), p, root) {
				t.Fatalf("n=%d: a forged line %d verifies", n, m)
			}
			if n > 1 && verifyProof((m+1)%n, n, leaves[m], p, root) {
				t.Fatalf("n=%d: line %d's proof verifies at index %d", n, m, (m+1)%n)
			}
			bad := bytes.Clone(root)
			bad[0] ^= 1
			if verifyProof(m, n, leaves[m], p, bad) {
				t.Fatalf("n=%d: line %d verifies under another root", n, m)
			}
		}
	}
	// The RFC 6962 shape: 3 leaves are ((0,1),2).
	l := [][]byte{leafHash([]byte("a")), leafHash([]byte("b")), leafHash([]byte("c"))}
	if want := nodeHash(nodeHash(l[0], l[1]), l[2]); !bytes.Equal(merkleRoot(l), want) {
		t.Fatal("the root of three leaves is not ((a,b),c)")
	}
}

// TestAggregateIgnoresRowOrder: rows out of the store's order make the
// same report (each listener's lines are still made once).
func TestAggregateIgnoresRowOrder(t *testing.T) {
	p := pseudonyms{key: []byte("k"), ID: "k"}
	var rows []nineten.DayListening
	for u := 1; u <= 20; u++ {
		for k := range u % 5 {
			rows = append(rows, nineten.DayListening{UserID: nineten.ID(u), TrackID: nineten.ID(k*3 + u%2 + 1), ArtistID: nineten.ID(k%3 + 1), Listens: int64(k + 1), HeardMS: int64(1000 * u)})
		}
	}
	t1, a1, l1, s1 := aggregate(rows, p)
	shuffled := slices.Clone(rows)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	t2, a2, l2, s2 := aggregate(shuffled, p)
	if !slices.Equal(t1, t2) || !slices.Equal(a1, a2) || !slices.Equal(l1, l2) || s1 != s2 {
		t.Fatalf("shuffled rows aggregate differently:\n%v %v\n%v %v", a1, s1, a2, s2)
	}
	if s1.Listeners != 16 || len(l1) == 0 {
		t.Fatalf("totals %+v", s1)
	}
}

// TestMonthIsTheSumOfItsDays: for random months, the compiled monthly
// report's lines are the month's listening summed per listener × artist
// directly, and its totals the sum of the days'.
func TestMonthIsTheSumOfItsDays(t *testing.T) {
	p := pseudonyms{key: []byte("k"), ID: "k"}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		type key struct {
			user   nineten.ID
			artist nineten.ID
		}
		direct := map[key]Line{}
		var dailies []*Daily
		var listens, heard int64
		for range 1 + r.IntN(30) {
			var rows []nineten.DayListening
			for u := 1; u <= 1+r.IntN(40); u++ {
				for tr := 1; tr <= 12; tr++ {
					if r.IntN(4) != 0 {
						continue
					}
					row := nineten.DayListening{UserID: nineten.ID(u), TrackID: nineten.ID(tr), ArtistID: nineten.ID(tr%5 + 1), Listens: 1 + r.Int64N(3), HeardMS: 30_000 + r.Int64N(500_000)}
					rows = append(rows, row)
					k := key{row.UserID, row.ArtistID}
					l := direct[k]
					l.Listener, l.Artist = p.of(row.UserID), row.ArtistID
					l.Listens += row.Listens
					l.HeardMS += row.HeardMS
					direct[k] = l
				}
			}
			d := &Daily{Pseudonyms: p.ID}
			d.Tracks, d.Artists, d.Listening, d.Totals = aggregate(rows, p)
			listens += d.Totals.Listens
			heard += d.Totals.HeardMS
			dailies = append(dailies, d)
		}
		m := Compile("n", "2026-11", p.ID, nil, dailies)
		var want []Line
		for _, l := range direct {
			want = append(want, l)
		}
		sortLines(want)
		if !slices.Equal(m.Listening, want) {
			t.Fatalf("seed %d: the month's lines are not the month's listening", seed)
		}
		if m.Totals.Listens != listens || m.Totals.HeardMS != heard {
			t.Fatalf("seed %d: month totals %+v; the days sum to %d listens, %d ms", seed, m.Totals, listens, heard)
		}
		var fromArtists Group
		for _, a := range m.Artists {
			fromArtists.Listens += a.Listens
			fromArtists.HeardMS += a.HeardMS
		}
		if fromArtists.Listens != listens || fromArtists.HeardMS != heard {
			t.Fatalf("seed %d: the artists sum to %+v", seed, fromArtists)
		}
	}
}
