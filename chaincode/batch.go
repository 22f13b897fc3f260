package chaincode

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// A settlement records one transaction per listener, and a node may have a
// million listeners. Stored one key each, as JSON, that is a million state
// writes of some 600 bytes, each written twice (state and log) and each a
// row in the embedded ledger's database: the writes, not the arithmetic,
// would take most of the time. So a settlement's transactions are stored in
// batches of consecutive transactions, as compact text, and the artists
// they pay are named once per settlement in its index (see doc.go, "How
// transactions are recorded"). Every transaction keeps its number and is
// replayed by Events and Audit like any other; SettlementOf finds one
// listener's.

const (
	batchTag = "settle " // first bytes of a batch value; a Tx in JSON starts with '{'
	indexTag = "batches "
)

// Account references in a batch line.
const (
	refPool     = "pool"     // the settled month's pool: pool:<node>/<period>
	refHeld     = "held"     // the line's listener's held money: held:<node>/<listener>
	refListener = "listener" // the line's listener's balance: listener:<node>/<listener>
)

func settleKey(node, period string) string { return keySettle + node + "/" + period }

// batchRef locates one batch of a settlement: its first transaction and
// that transaction's listener (batches are in order of listener).
type batchRef struct {
	first    uint64
	listener string
}

// settleIndex is the decoded settle/<node>/<period> record.
type settleIndex struct {
	batches []batchRef
	artists []string // "<node>/<id>", most paid first; a line's artist n is artists[n]
}

func appendIndex(b []byte, batches []batchRef, artists []string) []byte {
	b = append(b, indexTag...)
	b = strconv.AppendInt(b, int64(len(batches)), 10)
	b = append(b, '\n')
	for _, r := range batches {
		b = strconv.AppendUint(b, r.first, 10)
		b = append(b, ' ')
		b = append(b, r.listener...)
		b = append(b, '\n')
	}
	b = append(b, "artists "...)
	b = strconv.AppendInt(b, int64(len(artists)), 10)
	b = append(b, '\n')
	for _, a := range artists {
		b = append(b, a...)
		b = append(b, '\n')
	}
	return b
}

// lines iterates over the "\n"-terminated lines of a stored text value.
type lines struct {
	s   string
	bad bool // a line without its newline
}

func (l *lines) next() (string, bool) {
	if l.s == "" {
		return "", false
	}
	line, rest, ok := strings.Cut(l.s, "\n")
	if !ok {
		l.bad = true
		return "", false
	}
	l.s = rest
	return line, true
}

// count reads a line "<word> <n>".
func (l *lines) count(word string) (int, bool) {
	line, ok := l.next()
	if !ok {
		return 0, false
	}
	w, num, _ := strings.Cut(line, " ")
	n, err := strconv.Atoi(num)
	return n, w == word && err == nil && n >= 0 && n <= len(l.s)
}

func decodeIndex(key string, v []byte) (*settleIndex, error) {
	corrupt := &Error{Kind: KindInternal, Message: "stored settlement index " + key + " is corrupt"}
	ls := &lines{s: string(v)}
	n, ok := ls.count(strings.TrimSpace(indexTag))
	if !ok {
		return nil, corrupt
	}
	idx := &settleIndex{batches: make([]batchRef, n)}
	for i := range n {
		line, _ := ls.next()
		seq, l, _ := strings.Cut(line, " ")
		first, err := strconv.ParseUint(seq, 10, 64)
		if err != nil || !validID(l) || (i > 0 && (first <= idx.batches[i-1].first || l <= idx.batches[i-1].listener)) {
			return nil, corrupt
		}
		idx.batches[i] = batchRef{first, l}
	}
	if n, ok = ls.count("artists"); !ok {
		return nil, corrupt
	}
	idx.artists = make([]string, n)
	for i := range n {
		a, _ := ls.next()
		if _, _, ok := splitArtist(a); !ok {
			return nil, corrupt
		}
		idx.artists[i] = a
	}
	if ls.bad || ls.s != "" {
		return nil, corrupt
	}
	return idx, nil
}

// appendBatchHeader starts a batch: "settle <node> <period> <first> <last>".
func appendBatchHeader(b []byte, node, period string, first, last uint64) []byte {
	b = append(b, batchTag...)
	b = append(b, node...)
	b = append(b, ' ')
	b = append(b, period...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, first, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, last, 10)
	return append(b, '\n')
}

func appendLeg(b []byte, ref string, amount Micro) []byte {
	b = append(b, ' ')
	b = append(b, ref...)
	b = append(b, '=')
	return strconv.AppendInt(b, int64(amount), 10)
}

func appendArtistLeg(b []byte, artist int, amount Micro) []byte {
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(artist), 10)
	b = append(b, '=')
	return strconv.AppendInt(b, int64(amount), 10)
}

// batchReader decodes batches into transactions, keeping the index of the
// settlement it last read (a settlement's batches come one after another).
type batchReader struct {
	st       State
	node     string
	period   string
	accounts []string // artist accounts of the cached index, built as used
	idx      *settleIndex
}

func (r *batchReader) index(node, period string) (*settleIndex, error) {
	if r.idx != nil && r.node == node && r.period == period {
		return r.idx, nil
	}
	key := settleKey(node, period)
	v, err := r.st.Get(key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, &Error{Kind: KindInternal, Message: "the settlement index " + key + " is missing"}
	}
	idx, err := decodeIndex(key, v)
	if err != nil {
		return nil, err
	}
	r.node, r.period, r.idx = node, period, idx
	r.accounts = make([]string, len(idx.artists))
	return idx, nil
}

// decode calls fn for every transaction of the batch stored under key
// (tx/<node>/<first seq>); with only set, just for that listener's.
func (r *batchReader) decode(key string, v []byte, only string, fn func(Tx) error) error {
	corrupt := func(why string) error {
		return &Error{Kind: KindInternal, Message: "stored transaction batch " + key + " is corrupt: " + why}
	}
	ls := &lines{s: string(v)}
	head, ok := ls.next()
	if !ok || !strings.HasPrefix(head, batchTag) {
		return corrupt("no header")
	}
	f := strings.Split(head[len(batchTag):], " ")
	if len(f) != 4 {
		return corrupt("bad header")
	}
	node, period := f[0], f[1]
	first, err1 := strconv.ParseUint(f[2], 10, 64)
	last, err2 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil || first == 0 || last < first || key != txKey(node, first) || !validPeriod(period) {
		return corrupt("bad header")
	}
	idx, err := r.index(node, period)
	if err != nil {
		return err
	}
	pool := PoolAccount(node, period)
	seq := first
	for ; ; seq++ {
		line, ok := ls.next()
		if !ok {
			break
		}
		if seq > last {
			return corrupt("more transactions than its header says")
		}
		op, rest, _ := strings.Cut(line, " ")
		listener, rest, _ := strings.Cut(rest, " ")
		if only != "" && listener != only {
			continue
		}
		if (op != "settle" && op != "hold" && op != "refund") || !validID(listener) {
			return corrupt("transaction " + strconv.FormatUint(seq, 10))
		}
		tx := Tx{Node: node, Seq: seq, Op: op, Period: period, Listener: listener}
		legs := &tx.Inputs
		for tok := range strings.SplitSeq(rest, " ") {
			if tok == "|" && legs == &tx.Inputs {
				legs = &tx.Outputs
				continue
			}
			ref, num, _ := strings.Cut(tok, "=")
			amount, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				return corrupt("transaction " + strconv.FormatUint(seq, 10) + " has a bad amount")
			}
			var account string
			switch ref {
			case refPool:
				account = pool
			case refHeld:
				account = HeldAccount(node, listener)
			case refListener:
				account = ListenerAccount(node, listener)
			default:
				i, err := strconv.Atoi(ref)
				if err != nil || i < 0 || i >= len(idx.artists) {
					return corrupt("transaction " + strconv.FormatUint(seq, 10) + " names no artist of the settlement")
				}
				if r.accounts[i] == "" {
					r.accounts[i] = KindArtist + ":" + idx.artists[i]
				}
				account = r.accounts[i]
			}
			*legs = append(*legs, Leg{account, Micro(amount)})
		}
		if legs != &tx.Outputs {
			return corrupt("transaction " + strconv.FormatUint(seq, 10) + " has no outputs")
		}
		if err := fn(tx); err != nil {
			return err
		}
	}
	if ls.bad || seq != last+1 {
		return corrupt("fewer transactions than its header says")
	}
	return nil
}

// forEachTx calls fn for every transaction stored under tx/ in [start, end),
// expanding batches, in order of node and number.
func forEachTx(st State, start, end string, fn func(Tx) error) error {
	r := &batchReader{st: st}
	return st.Range(start, end, func(k string, v []byte) error {
		if bytes.HasPrefix(v, []byte(batchTag)) {
			return r.decode(k, v, "", fn)
		}
		var tx Tx
		if err := json.Unmarshal(v, &tx); err != nil {
			return &Error{Kind: KindInternal, Message: "stored transaction " + k + " is corrupt", Err: err}
		}
		return fn(tx)
	})
}

// SettlementOf returns the transaction that settled listener's money in
// node's settlement of period (op "settle": what each artist got, in rank
// order; "hold" or "refund" without listening), and false when the
// settlement moved none of their money or has not happened.
func (Contract) SettlementOf(st State, node, period, listener string) (Tx, bool, error) {
	const op = "chaincode.SettlementOf"
	if err := firstErr(checkID(op, "node", node), checkPeriod(op, period), checkID(op, "listener", listener)); err != nil {
		return Tx{}, false, err
	}
	key := settleKey(node, period)
	v, err := st.Get(key)
	if err != nil || v == nil {
		return Tx{}, false, wrap(op, err)
	}
	idx, err := decodeIndex(key, v)
	if err != nil {
		return Tx{}, false, wrap(op, err)
	}
	// The batch whose first listener is the last one not after listener.
	i := sort.Search(len(idx.batches), func(i int) bool { return idx.batches[i].listener > listener }) - 1
	if i < 0 {
		return Tx{}, false, nil
	}
	bk := txKey(node, idx.batches[i].first)
	bv, err := st.Get(bk)
	if err != nil {
		return Tx{}, false, wrap(op, err)
	}
	if bv == nil {
		return Tx{}, false, errorf(op, KindInternal, "the transaction batch "+bk+" is missing")
	}
	r := &batchReader{st: st, node: node, period: period, idx: idx, accounts: make([]string, len(idx.artists))}
	var tx Tx
	var found bool
	err = r.decode(bk, bv, listener, func(t Tx) error {
		tx, found = t, true
		return nil
	})
	return tx, found, wrap(op, err)
}
