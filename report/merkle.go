package report

import (
	"bytes"
	"crypto/sha256"
)

// A Merkle tree over an audit bundle's lines, as RFC 6962 (Certificate
// Transparency) defines it: a leaf's hash is SHA-256(0x00 ‖ line), an inner
// node's SHA-256(0x01 ‖ left ‖ right), and a tree of n leaves splits at the
// largest power of two below n. A proof of one line is the list of sibling
// hashes from its leaf up to the root, so an artist can check their line
// against the root without the others' lines.

func leafHash(line []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(line)
	return h.Sum(nil)
}

func nodeHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// split is the largest power of two smaller than n (n ≥ 2).
func split(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// merkleRoot is the root of the tree over leaves (their hashes).
func merkleRoot(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return nodeHash(merkleRoot(leaves[:k]), merkleRoot(leaves[k:]))
}

// merkleProof is the audit path of leaf m, from the leaf up.
func merkleProof(m int, leaves [][]byte) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		return append(merkleProof(m, leaves[:k]), merkleRoot(leaves[k:]))
	}
	return append(merkleProof(m-k, leaves[k:]), merkleRoot(leaves[:k]))
}

// verifyProof checks that leaf (a hash) is leaf m of n under root.
func verifyProof(m, n int, leaf []byte, proof [][]byte, root []byte) bool {
	if m < 0 || m >= n {
		return false
	}
	// Walk down to find which side each proof step is on, then fold up.
	var rightSide []bool // for each level from the top: is the leaf in the right subtree
	for lo, hi := 0, n; hi-lo > 1; {
		k := split(hi - lo)
		if m-lo < k {
			rightSide = append(rightSide, false)
			hi = lo + k
		} else {
			rightSide = append(rightSide, true)
			lo += k
		}
	}
	if len(proof) != len(rightSide) {
		return false
	}
	h := leaf
	for i, sib := range proof {
		if rightSide[len(rightSide)-1-i] {
			h = nodeHash(sib, h)
		} else {
			h = nodeHash(h, sib)
		}
	}
	return bytes.Equal(h, root)
}
