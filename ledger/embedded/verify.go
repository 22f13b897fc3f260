package embedded

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"nineten.dev"
	"nineten.dev/chaincode"
)

// ErrTampered is what every error of Verify about the ledger's contents
// wraps (a *Problem), as opposed to errors reading it.
var ErrTampered = errors.New("the ledger does not verify")

// Problem is something Verify found wrong with the stored ledger: an entry
// that was changed, removed or not signed by the ledger's key, or state that
// the log does not explain.
type Problem struct {
	Seq  int64  // the entry at fault, or 0
	Key  string // the state key at fault, or ""
	What string // what is wrong, naming the entry or key
}

func (p *Problem) Error() string        { return "the ledger does not verify: " + p.What }
func (p *Problem) Is(target error) bool { return target == ErrTampered }

// Report is what Verify checked.
type Report struct {
	Entries      int64           // log entries, every one checked
	Head         []byte          // hash of the last entry; nil for an empty log
	Keys         int             // state keys, each equal to what the log makes it
	Accounts     int             // accounts with a balance
	Balance      chaincode.Micro // money inside the node: every balance but the external accounts'
	Transactions int             // contract transactions replayed by the audit
}

// maxStateProblems is how many differing state keys one error lists.
const maxStateProblems = 5

// Verify replays the whole log against pub, the public key of the ledger's
// signing key, and checks:
//   - the entries are numbered 1, 2, 3… without gaps, and each one's Prev is
//     the hash of the entry before it;
//   - each entry's Hash is the hash of its contents, and Sig a valid
//     signature of it by pub;
//   - its Writes and Events are well formed and canonical;
//   - the writes of all entries, applied in order to an empty state, give
//     exactly the stored state, byte for byte, key for key;
//   - that state passes the contract's Audit (every balance follows from
//     the contract's own transactions, and money is conserved).
//
// It calls progress, if set, after each entry. A finding about the contents
// is a *Problem (errors.Is ErrTampered) naming the entry or state key; the
// report then says how far the check got. Verify reads the store twice (the
// log, then the state): if the ledger moved on between the two it fails
// with KindUnavailable, and should be run again.
func (l *Ledger) Verify(ctx context.Context, pub ed25519.PublicKey, progress func(done int64)) (*Report, error) {
	const op = "embedded.Verify"
	if len(pub) != ed25519.PublicKeySize {
		return nil, nineten.E(op, nineten.KindInvalid, "the ledger's public key is not an Ed25519 key")
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	rep := &Report{}
	replay := chaincode.NewMemState()
	lastWriter := map[string]int64{} // for messages: which entry set a key last
	prev := make([]byte, HashSize)
	err := l.Store.LedgerEntries(ctx, 1, func(e nineten.LedgerEntry) error {
		if p := checkEntry(&e, rep.Entries+1, prev, pub); p != nil {
			return p
		}
		writes, err := DecodeWrites(e.Writes)
		if err != nil {
			return &Problem{Seq: e.Seq, What: fmt.Sprintf("the writes of entry %d are malformed: %v", e.Seq, err)}
		}
		if _, err := decodeEvents(e.Events); err != nil {
			return &Problem{Seq: e.Seq, What: fmt.Sprintf("the events of entry %d are malformed: %v", e.Seq, err)}
		}
		for _, w := range writes {
			if err := replay.Put(w.Key, w.Value); err != nil {
				return &Problem{Seq: e.Seq, Key: w.Key, What: fmt.Sprintf("entry %d writes %q: %v", e.Seq, w.Key, err)}
			}
			lastWriter[w.Key] = e.Seq
		}
		prev = e.Hash
		rep.Entries = e.Seq
		rep.Head = e.Hash
		if progress != nil {
			progress(rep.Entries)
		}
		return nil
	})
	if err != nil {
		return rep, wrapProblem(op, err)
	}

	stateErr := compareState(ctx, l.Store, replay, lastWriter, rep)
	// The log and the state were read at different moments; an entry
	// committed in between would look like tampering.
	head, _, err := l.Store.LedgerHead(ctx)
	if err != nil {
		return rep, nineten.E(op, err)
	}
	if head != rep.Entries {
		return rep, nineten.E(op, nineten.KindUnavailable,
			fmt.Sprintf("the ledger moved on from entry %d to %d while it was verified; run the check again", rep.Entries, head))
	}
	if stateErr != nil {
		return rep, wrapProblem(op, stateErr)
	}

	c := chaincode.Contract{}
	if err := c.Audit(replay); err != nil {
		return rep, &Problem{What: "the state the log makes fails the contract's audit: " + err.Error()}
	}
	err = c.Balances(replay, func(account string, b chaincode.Micro) error {
		rep.Accounts++
		if chaincode.AccountKind(account) == chaincode.KindExternal {
			return nil
		}
		var err error
		rep.Balance, err = rep.Balance.Add(b)
		return err
	})
	if err != nil {
		return rep, nineten.E(op, err)
	}
	err = c.Events(replay, func(chaincode.Tx) error {
		rep.Transactions++
		return nil
	})
	if err != nil {
		return rep, nineten.E(op, err)
	}
	return rep, nil
}

// wrapProblem passes a *Problem through unchanged (its message is complete)
// and gives any other error the operation.
func wrapProblem(op string, err error) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return nineten.E(op, err)
}

// checkEntry checks e, which should be entry want and follow the hash prev.
func checkEntry(e *nineten.LedgerEntry, want int64, prev []byte, pub ed25519.PublicKey) *Problem {
	switch {
	case e.Seq != want && want == 1:
		return &Problem{Seq: 1, What: fmt.Sprintf("entry 1 is missing: the log starts at entry %d", e.Seq)}
	case e.Seq != want:
		return &Problem{Seq: want, What: fmt.Sprintf("entry %d is missing: the log goes from entry %d to entry %d", want, want-1, e.Seq)}
	case !bytes.Equal(e.Prev, prev) && want == 1:
		return &Problem{Seq: 1, What: fmt.Sprintf("entry 1 does not start the chain: its prev is %s, not zero", short(e.Prev))}
	case !bytes.Equal(e.Prev, prev):
		return &Problem{Seq: want, What: fmt.Sprintf("entry %d does not follow entry %d: its prev is %s, but entry %d's hash is %s",
			want, want-1, short(e.Prev), want-1, short(prev))}
	}
	if h := Hash(e); !bytes.Equal(h, e.Hash) {
		return &Problem{Seq: want, What: fmt.Sprintf("entry %d (%s) was altered: its contents hash to %s, but it records %s",
			want, e.Op, short(h), short(e.Hash))}
	}
	if !ed25519.Verify(pub, e.Hash, e.Sig) {
		why := "it names " + e.Signer + " as its signer"
		if e.Signer == KeyID(pub) {
			why = "its signature does not match its hash (it was rewritten without the key)"
		}
		return &Problem{Seq: want, What: fmt.Sprintf("entry %d (%s) is not signed by the ledger key %s: %s", want, e.Op, KeyID(pub), why)}
	}
	return nil
}

// compareState walks the stored state and the replayed one side by side,
// in key order, and lists the keys on which they differ.
func compareState(ctx context.Context, st nineten.LedgerStore, replay *chaincode.MemState, lastWriter map[string]int64, rep *Report) error {
	type kv struct {
		key   string
		value []byte
	}
	var want []kv
	_ = replay.Range("", "", func(k string, v []byte) error {
		want = append(want, kv{k, v})
		return nil
	})
	var problems []string
	var first *Problem
	differ := func(key, what string) {
		if first == nil {
			first = &Problem{Seq: lastWriter[key], Key: key}
		}
		problems = append(problems, what)
	}
	missing := func(w kv) {
		differ(w.key, fmt.Sprintf("state key %q is missing from the database, but entry %d set it to %s", w.key, lastWriter[w.key], quote(w.value)))
	}
	i := 0
	err := st.LedgerRange(ctx, "", "", func(k string, v []byte) error {
		for ; i < len(want) && want[i].key < k; i++ {
			missing(want[i])
		}
		if i < len(want) && want[i].key == k {
			if !bytes.Equal(want[i].value, v) {
				differ(k, fmt.Sprintf("state key %q is %s in the database, but the log makes it %s (entry %d set it last)",
					k, quote(v), quote(want[i].value), lastWriter[k]))
			}
			i++
		} else {
			differ(k, fmt.Sprintf("state key %q is %s in the database, but no entry of the log wrote it", k, quote(v)))
		}
		rep.Keys++
		return nil
	})
	if err != nil {
		return err
	}
	for ; i < len(want); i++ {
		missing(want[i])
	}
	if first == nil {
		return nil
	}
	what := strings.Join(problems[:min(len(problems), maxStateProblems)], "; ")
	if n := len(problems) - maxStateProblems; n > 0 {
		what += fmt.Sprintf("; and %d more", n)
	}
	first.What = "the state does not match the log (it was edited, or entries were removed from the end of the log): " + what
	return first
}
