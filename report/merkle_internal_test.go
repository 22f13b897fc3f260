package report

import (
	"bytes"
	"fmt"
	"testing"
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
