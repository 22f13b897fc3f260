// Package embedded is the default ledger of a 9ten node: it runs the
// payout contract (nineten.dev/chaincode) in-process and keeps its world
// state, and a log of every invocation that changed it, in the node's own
// database through the nineten.LedgerStore port.
//
// # The log
//
// Each invocation that writes anything appends one nineten.LedgerEntry: the
// operation, its inputs (Args, JSON), the state writes it made (Writes) and
// the events it emitted (Events). Entries are numbered 1, 2, 3… and chained:
// Prev is the Hash of the entry before (32 zero bytes for entry 1), Hash
// covers the entry's contents and Prev, and Sig is the node's Ed25519
// signature of Hash. The entry and its state writes are committed in one
// database transaction, so a crash (kill -9 in the middle of a settlement)
// leaves either the whole invocation or none of it. Verify replays the log
// and checks every link, hash and signature, that the writes reproduce the
// stored state byte for byte, and the contract's own audit.
//
// # The canonical encoding
//
// Hash is SHA-256 over these bytes, in this order:
//
//	"9ten ledger entry v1\n"  a fixed tag (21 bytes)
//	Seq                       8 bytes, big-endian (two's complement)
//	Prev                      field
//	Op                        field (UTF-8)
//	Args                      field
//	Writes                    field
//	Events                    field
//	Signer                    field (UTF-8)
//	At                        8 bytes, big-endian: Unix milliseconds (0 for the zero time)
//
// where a field is its length in bytes (8 bytes, big-endian) followed by
// the bytes. Every part is either of fixed size or says its own size, so
// the encoding of an entry parses back into exactly one entry: two entries
// that differ in any covered field (moving a byte from Args to Writes
// included) have different encodings. Signer and At are covered too,
// although a hash over the contents alone would chain them, so that no
// field of a stored entry can be changed unnoticed.
//
// Writes is canonical as well: a JSON array of {"key": k, "text": v}
// objects, one per key written, in strictly ascending byte order of the key,
// exactly as encoding/json writes it; a value that is not valid UTF-8 is
// given as "base64" instead of "text" (the contract writes only JSON and
// decimal numbers, so in practice the log is readable). Events is the same
// shape with "name" for the event, in the order emitted. Verify decodes
// both and checks that encoding them again gives the same bytes.
//
// # What verification proves, and what it does not
//
// A changed state value, a changed, missing, inserted or reordered entry,
// and an entry signed by another key are all detected. Removing entries from
// the end of the log together with their state writes is not: nothing
// inside the database says how long the log was. Verify reports the head
// hash so that it can be compared with a copy kept elsewhere.
package embedded

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"nineten.dev"
	"nineten.dev/chaincode"
)

// Ledger is the embedded ledger over one store. It is safe for concurrent
// use; invocations run one at a time, so the log stays a single chain.
type Ledger struct {
	Store nineten.LedgerStore
	Key   ed25519.PrivateKey // signs every entry; only Verify works without one
	KeyID string             // the entries' Signer; default KeyID of Key's public key
	Clock nineten.Clock      // default the system clock

	mu sync.Mutex
}

// Invoke runs fn, which calls the contract on the State it is given, and
// records what it did. fn reads the stored state; its writes and events are
// buffered, and only when fn returns nil are they committed, together with
// a new log entry for op and args (marshalled as JSON), in one transaction.
// It returns that entry, or nil when fn wrote nothing (a read, or a
// contract operation repeated with nothing left to do): only changes are
// logged. An error of fn is returned as it is, and then nothing is written.
//
// Invocations of one Ledger are serialized. Another process writing the
// same store makes the commit fail with KindConflict (the store refuses a
// second entry for the same place in the chain); calling Invoke again runs
// fn on the new state.
func (l *Ledger) Invoke(ctx context.Context, op string, args any, fn func(chaincode.State) error) (*nineten.LedgerEntry, error) {
	const opName = "embedded.Invoke"
	if op == "" {
		return nil, nineten.E(opName, nineten.KindInvalid, "the operation has no name")
	}
	if len(l.Key) != ed25519.PrivateKeySize {
		return nil, nineten.E(opName, "the ledger has no signing key")
	}
	argsJSON, err := json.Marshal(args)
	if err != nil {
		return nil, nineten.E(opName, nineten.KindInvalid, "the arguments of "+op+" cannot be encoded as JSON", err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// The head is read before fn runs: if another writer appends meanwhile,
	// fn may have read an older state, and the commit for seq+1 is refused.
	seq, prev, err := l.Store.LedgerHead(ctx)
	if err != nil {
		return nil, nineten.E(opName, err)
	}
	if seq == 0 {
		prev = make([]byte, HashSize)
	}
	v := &view{ctx: ctx, store: l.Store, writes: map[string][]byte{}}
	if err := fn(v); err != nil {
		return nil, err
	}
	if len(v.writes) == 0 && len(v.events) == 0 {
		return nil, nil
	}

	writes := v.sorted()
	e := nineten.LedgerEntry{Seq: seq + 1, Prev: prev, Op: op, Args: argsJSON, Signer: l.keyID(), At: l.now()}
	if e.Writes, err = EncodeWrites(writes); err != nil {
		return nil, nineten.E(opName, err)
	}
	if e.Events, err = encodeEvents(v.events); err != nil {
		return nil, nineten.E(opName, err)
	}
	e.Hash = Hash(&e)
	e.Sig = ed25519.Sign(l.Key, e.Hash)
	if err := l.Store.LedgerCommit(ctx, e, writes); err != nil {
		return nil, nineten.E(opName, fmt.Sprintf("%s was not recorded", op), err)
	}
	return &e, nil
}

// Query runs fn, which only reads, on the stored state: balances,
// subscriptions, statements. A Put or Emit in fn fails. Invocations of this
// Ledger wait until it returns, so fn sees one state.
func (l *Ledger) Query(ctx context.Context, fn func(chaincode.State) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fn(&view{ctx: ctx, store: l.Store, readOnly: true})
}

func (l *Ledger) keyID() string {
	if l.KeyID != "" {
		return l.KeyID
	}
	return KeyID(l.Key.Public().(ed25519.PublicKey))
}

// now is the entry's time, in the millisecond precision stores keep, so
// that the time read back hashes the same.
func (l *Ledger) now() time.Time {
	c := l.Clock
	if c == nil {
		c = nineten.SystemClock{}
	}
	return c.Now().UTC().Truncate(time.Millisecond)
}

// view is the chaincode.State one invocation runs on: reads go to the
// store, writes and events are buffered until the commit, and reads and
// ranges see the buffered writes.
type view struct {
	ctx    context.Context
	store  nineten.LedgerStore
	writes map[string][]byte
	events []chaincode.Emission
	// readOnly refuses writes: a Query.
	readOnly bool
}

func (v *view) Get(key string) ([]byte, error) {
	if w, ok := v.writes[key]; ok {
		return slices.Clone(w), nil
	}
	return v.store.LedgerGet(v.ctx, key)
}

func (v *view) Put(key string, value []byte) error {
	if v.readOnly {
		return nineten.E("embedded.Put", nineten.KindInvalid, "a query cannot change the ledger; use Invoke")
	}
	if key == "" {
		return nineten.E("embedded.Put", nineten.KindInvalid, "a state key is empty")
	}
	if value == nil {
		value = []byte{}
	}
	v.writes[key] = slices.Clone(value)
	return nil
}

// Range merges the stored keys with the buffered writes as it goes, so a
// range over the whole state is never held in memory. As in
// chaincode.MemState, fn sees the latest value of every key, but keys that
// fn itself creates during the iteration are not visited.
func (v *view) Range(start, end string, fn func(key string, value []byte) error) error {
	inRange := func(k string) bool { return k >= start && (end == "" || k < end) }
	var dirty []string // buffered keys in range, in order, as of the start
	for k := range v.writes {
		if inRange(k) {
			dirty = append(dirty, k)
		}
	}
	slices.Sort(dirty)
	i := 0
	yieldDirty := func(before string, all bool) error {
		for ; i < len(dirty) && (all || dirty[i] < before); i++ {
			if err := fn(dirty[i], slices.Clone(v.writes[dirty[i]])); err != nil {
				return err
			}
		}
		return nil
	}
	err := v.store.LedgerRange(v.ctx, start, end, func(k string, stored []byte) error {
		if err := yieldDirty(k, false); err != nil {
			return err
		}
		if i < len(dirty) && dirty[i] == k {
			i++
		}
		if w, ok := v.writes[k]; ok {
			stored = slices.Clone(w)
		}
		return fn(k, stored)
	})
	if err != nil {
		return err
	}
	return yieldDirty("", true)
}

func (v *view) Emit(event string, payload []byte) error {
	if v.readOnly {
		return nineten.E("embedded.Emit", nineten.KindInvalid, "a query cannot emit events; use Invoke")
	}
	v.events = append(v.events, chaincode.Emission{Name: event, Payload: slices.Clone(payload)})
	return nil
}

// sorted returns the buffered writes in key order.
func (v *view) sorted() []nineten.LedgerWrite {
	out := make([]nineten.LedgerWrite, 0, len(v.writes))
	for k, val := range v.writes {
		out = append(out, nineten.LedgerWrite{Key: k, Value: val})
	}
	slices.SortFunc(out, func(a, b nineten.LedgerWrite) int { return strings.Compare(a.Key, b.Key) })
	return out
}
