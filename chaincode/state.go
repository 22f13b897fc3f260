package chaincode

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// State is the world state the contract runs on. It is deliberately tiny so
// that Hyperledger Fabric's ChaincodeStubInterface (GetState, PutState,
// GetStateByRange, SetEvent) or an embedded key-value store can back it.
//
// The contract never relies on reading its own writes from a State: every
// operation reads through a private overlay that buffers its writes and
// hands them to Put only when the whole operation has succeeded (in key
// order). On Fabric, where GetState does not see the transaction's pending
// writes, this is what keeps the contract correct; for an embedded store it
// makes a failed operation write nothing. A backend should still apply the
// Puts of one operation atomically (Fabric does; an embedded ledger should
// batch them).
//
// Each operation that changes anything calls Emit exactly once, after its
// Puts, because Fabric keeps only one chaincode event per transaction.
type State interface {
	Get(key string) ([]byte, error)                                         // nil, nil when missing
	Put(key string, value []byte) error                                     // value is never nil
	Range(start, end string, fn func(key string, value []byte) error) error // keys in [start,end) in lexical order
	Emit(event string, payload []byte) error                                // an event for auditors
}

// Emission is an event a MemState received through Emit.
type Emission struct {
	Name    string
	Payload []byte
}

// MemState is a State in memory for tests and tools: a map plus a lazily
// sorted key index, so Range iterates in lexical order. It is not safe for
// concurrent use.
type MemState struct {
	m       map[string][]byte
	keys    []string // sorted
	pending []string // new keys not yet merged into keys
	emitted []Emission
	changes uint64 // Puts and Emits so far
}

// NewMemState returns an empty MemState.
func NewMemState() *MemState { return &MemState{m: make(map[string][]byte)} }

// Get returns a copy of the value stored under key, or nil, nil.
func (s *MemState) Get(key string) ([]byte, error) {
	v, ok := s.m[key]
	if !ok {
		return nil, nil
	}
	return slices.Clone(v), nil
}

// Put stores a copy of value under key.
func (s *MemState) Put(key string, value []byte) error {
	if key == "" {
		return errorf("chaincode.MemState.Put", KindInvalid, "empty key")
	}
	if value == nil {
		value = []byte{}
	}
	if _, ok := s.m[key]; !ok {
		s.pending = append(s.pending, key)
	}
	s.changes++
	s.m[key] = slices.Clone(value)
	return nil
}

func (s *MemState) index() []string {
	if len(s.pending) > 0 {
		sort.Strings(s.pending)
		merged := make([]string, 0, len(s.keys)+len(s.pending))
		i, j := 0, 0
		for i < len(s.keys) && j < len(s.pending) {
			if s.keys[i] < s.pending[j] {
				merged = append(merged, s.keys[i])
				i++
			} else {
				merged = append(merged, s.pending[j])
				j++
			}
		}
		merged = append(merged, s.keys[i:]...)
		merged = append(merged, s.pending[j:]...)
		s.keys, s.pending = merged, nil
	}
	return s.keys
}

// Range calls fn for every key in [start, end) in lexical order; an empty
// end means no upper bound. Keys Put during the iteration are not visited.
func (s *MemState) Range(start, end string, fn func(key string, value []byte) error) error {
	keys := s.index()
	for i := sort.SearchStrings(keys, start); i < len(keys); i++ {
		k := keys[i]
		if end != "" && k >= end {
			break
		}
		if err := fn(k, slices.Clone(s.m[k])); err != nil {
			return err
		}
	}
	return nil
}

// Emit records an event.
func (s *MemState) Emit(event string, payload []byte) error {
	s.emitted = append(s.emitted, Emission{Name: event, Payload: slices.Clone(payload)})
	s.changes++
	return nil
}

// Emitted returns the events received so far, in order.
func (s *MemState) Emitted() []Emission { return slices.Clone(s.emitted) }

// Changes returns how many Puts and Emits s has received: an operation that
// leaves it unchanged wrote nothing at all.
func (s *MemState) Changes() uint64 { return s.changes }

// Len returns the number of keys.
func (s *MemState) Len() int { return len(s.m) }

// Clone returns an independent copy of s (values are immutable once stored,
// so they are shared).
func (s *MemState) Clone() *MemState {
	c := &MemState{m: make(map[string][]byte, len(s.m))}
	for k, v := range s.m {
		c.m[k] = v
	}
	c.keys = slices.Clone(s.index())
	c.emitted = slices.Clone(s.emitted)
	c.changes = s.changes
	return c
}

// Snapshot returns a canonical dump of every key, value and emitted event
// (each as its length in decimal, a colon and its bytes): two MemStates with
// the same content and history have byte-identical snapshots.
func (s *MemState) Snapshot() []byte {
	var b []byte
	field := func(x []byte) {
		b = strconv.AppendInt(b, int64(len(x)), 10)
		b = append(b, ':')
		b = append(b, x...)
	}
	for _, k := range s.index() {
		field([]byte(k))
		field(s.m[k])
		b = append(b, '\n')
	}
	b = append(b, "-- events\n"...)
	for _, e := range s.emitted {
		field([]byte(e.Name))
		field(e.Payload)
		b = append(b, '\n')
	}
	return b
}

// overlay is the private view an operation works through: reads are cached,
// writes are buffered until commit, and Range merges both.
type overlay struct {
	st     State
	cache  map[string][]byte // values read from st; nil when missing
	writes map[string][]byte
	events []Emission
}

func newOverlay(st State) *overlay {
	return &overlay{st: st, cache: make(map[string][]byte), writes: make(map[string][]byte)}
}

func (o *overlay) get(key string) ([]byte, error) {
	if v, ok := o.writes[key]; ok {
		return v, nil
	}
	if v, ok := o.cache[key]; ok {
		return v, nil
	}
	v, err := o.st.Get(key)
	if err != nil {
		return nil, err
	}
	o.cache[key] = v
	return v, nil
}

func (o *overlay) put(key string, value []byte) {
	if value == nil {
		value = []byte{}
	}
	o.writes[key] = value
}

type kv struct {
	key   string
	value []byte
}

// rangeKeys calls fn for every key in [start, end) of the merged view, in
// lexical order. The range is read completely before fn is called, so fn may
// read and write freely.
func (o *overlay) rangeKeys(start, end string, fn func(key string, value []byte) error) error {
	var base []kv
	err := o.st.Range(start, end, func(k string, v []byte) error {
		if _, ok := o.writes[k]; !ok {
			base = append(base, kv{k, v})
			o.cache[k] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	var dirty []kv
	for k, v := range o.writes {
		if k >= start && (end == "" || k < end) {
			dirty = append(dirty, kv{k, v})
		}
	}
	if len(dirty) > 0 {
		slices.SortFunc(dirty, func(a, b kv) int { return strings.Compare(a.key, b.key) })
		base = mergeKV(base, dirty)
	}
	for _, e := range base {
		if err := fn(e.key, e.value); err != nil {
			return err
		}
	}
	return nil
}

// scan is rangeKeys for reading a large range once: values are not kept in
// the read cache, and when the operation has written nothing in the range,
// fn is called as the State iterates (so fn must not use the State).
func (o *overlay) scan(start, end string, fn func(key string, value []byte) error) error {
	for k := range o.writes {
		if k >= start && (end == "" || k < end) {
			return o.rangeKeys(start, end, fn)
		}
	}
	return o.st.Range(start, end, fn)
}

func mergeKV(a, b []kv) []kv {
	out := make([]kv, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].key < b[j].key {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func (o *overlay) emit(name string, payload []byte) {
	o.events = append(o.events, Emission{Name: name, Payload: payload})
}

// commit hands the buffered writes to the State in key order, then the
// events.
func (o *overlay) commit() error {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := o.st.Put(k, o.writes[k]); err != nil {
			return err
		}
	}
	for _, e := range o.events {
		if err := o.st.Emit(e.Name, e.Payload); err != nil {
			return err
		}
	}
	return nil
}

// prefixEnd returns the smallest key greater than every key that starts
// with prefix (prefix ends in '/', so this stays valid UTF-8).
func prefixEnd(prefix string) string {
	return prefix[:len(prefix)-1] + string(rune(prefix[len(prefix)-1]+1))
}
