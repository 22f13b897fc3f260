package chaincode

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Key layout of the world state. IDs never contain '/', so a prefix ending
// in '/' selects exactly one node, month or listener.
const (
	keyBalance = "bal/"    // bal/<account>                          decimal Micro
	keySeq     = "seq/"    // seq/<node>                             last transaction number of node
	keyTx      = "tx/"     // tx/<node>/<%020d seq>                  Tx (JSON), or a batch of a settlement's (text, from seq on; see batch.go)
	keyExt     = "ext/"    // ext/<external id>                      extRecord (JSON)
	keySub     = "sub/"    // sub/<node>/<listener>                  Subscription (JSON)
	keyMember  = "member/" // member/<node>/<YYYY-MM>/<listener>     memberRecord (JSON): paid for that month
	keyPeriod  = "period/" // period/<node>/<YYYY-MM>                periodRecord (JSON)
	keyNode    = "node/"   // node/<node>                            nodeRecord (JSON)
	keyHeld    = "held/"   // held/<node>/<listener>                 HeldRecord (JSON)
	keyStmt    = "stmt/"   // stmt/<YYYY-MM>/<artist node>/<paying node>  text: "<artist id> <amount>" lines
	keySettle  = "settle/" // settle/<node>/<YYYY-MM>                settlement index (text; see batch.go)
	keyAnchor  = "anchor/" // anchor/<node>/<report id>              anchorRecord (JSON): a listening report's hashes
)

// Leg is one side of a transfer: an account and a positive amount.
type Leg struct {
	Account string `json:"account"`
	Amount  Micro  `json:"amount"`
}

// Tx is one balanced transaction: the inputs are debited, the outputs
// credited, and the inputs sum to exactly the outputs. Transactions are
// numbered per node from 1 and stored under tx/<node>/<seq>; together they
// are the event log auditors replay (see Audit).
type Tx struct {
	Node     string `json:"node"`
	Seq      uint64 `json:"seq"`
	Op       string `json:"op"` // deposit, payout, subscribe, renew, open, settle, hold, refund
	Period   string `json:"period,omitempty"`
	Listener string `json:"listener,omitempty"`
	Ref      string `json:"ref,omitempty"` // the external id of a deposit or payout
	Inputs   []Leg  `json:"inputs"`
	Outputs  []Leg  `json:"outputs"`
}

// Notice is the payload of the one event each changing operation emits:
// what happened and which transactions (FirstTx..LastTx of Node, 0 when
// none) it recorded.
type Notice struct {
	Op       string `json:"op"`
	Node     string `json:"node"`
	Period   string `json:"period,omitempty"`
	Listener string `json:"listener,omitempty"`
	Ref      string `json:"ref,omitempty"`
	Status   string `json:"status,omitempty"`
	FirstTx  uint64 `json:"firstTx,omitempty"`
	LastTx   uint64 `json:"lastTx,omitempty"`
}

func txKey(node string, seq uint64) string {
	return fmt.Sprintf("%s%s/%020d", keyTx, node, seq)
}

// session is one operation in progress on one node.
type session struct {
	o           *overlay
	op          string
	node        string
	seq         uint64
	seqLoaded   bool
	first, last uint64
}

func begin(st State, op, node string) *session {
	return &session{o: newOverlay(st), op: op, node: node}
}

func (s *session) getJSON(key string, v any) (bool, error) {
	b, err := s.o.get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, &Error{Op: s.op, Kind: KindInternal, Message: "stored record " + key + " is corrupt", Err: err}
	}
	return true, nil
}

func (s *session) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &Error{Op: s.op, Kind: KindInternal, Message: "cannot encode " + key, Err: err}
	}
	s.o.put(key, b)
	return nil
}

func parseMicro(key string, b []byte) (Micro, error) {
	if b == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, &Error{Kind: KindInternal, Message: "stored amount " + key + " is corrupt", Err: err}
	}
	return Micro(n), nil
}

func (s *session) balance(account string) (Micro, error) {
	b, err := s.o.get(keyBalance + account)
	if err != nil {
		return 0, err
	}
	return parseMicro(keyBalance+account, b)
}

func (s *session) setBalance(account string, m Micro) {
	s.o.put(keyBalance+account, []byte(strconv.FormatInt(int64(m), 10)))
}

// record checks that tx is balanced and that no account but an external one
// goes negative, applies it to the balances, numbers it and stores it.
func (s *session) record(tx *Tx) error {
	var in, out Micro
	var err error
	for _, l := range tx.Inputs {
		if l.Amount <= 0 {
			return errorf(s.op, KindInternal, "a transfer leg of "+l.Account+" is not positive")
		}
		if in, err = in.Add(l.Amount); err != nil {
			return wrap(s.op, err)
		}
	}
	for _, l := range tx.Outputs {
		if l.Amount <= 0 {
			return errorf(s.op, KindInternal, "a transfer leg of "+l.Account+" is not positive")
		}
		if out, err = out.Add(l.Amount); err != nil {
			return wrap(s.op, err)
		}
	}
	if in != out || len(tx.Inputs) == 0 {
		return errorf(s.op, KindInternal, "unbalanced transaction: debits "+in.String()+", credits "+out.String())
	}
	for _, l := range tx.Inputs {
		b, err := s.balance(l.Account)
		if err != nil {
			return wrap(s.op, err)
		}
		nb, err := b.Sub(l.Amount)
		if err != nil {
			return &Error{Op: s.op, Kind: KindOverflow, Message: "debiting " + l.Account + " by " + l.Amount.String() + " would overflow"}
		}
		if nb < 0 && AccountKind(l.Account) != KindExternal {
			return errorf(s.op, KindInsufficient, l.Account+" holds "+b.String()+", needs "+l.Amount.String())
		}
		s.setBalance(l.Account, nb)
	}
	for _, l := range tx.Outputs {
		b, err := s.balance(l.Account)
		if err != nil {
			return wrap(s.op, err)
		}
		nb, err := b.Add(l.Amount)
		if err != nil {
			return &Error{Op: s.op, Kind: KindOverflow, Message: "crediting " + l.Account + " with " + l.Amount.String() + " would overflow"}
		}
		s.setBalance(l.Account, nb)
	}
	if _, err := s.loadSeq(); err != nil {
		return wrap(s.op, err)
	}
	s.seq++
	tx.Node, tx.Seq = s.node, s.seq
	if s.first == 0 {
		s.first = s.seq
	}
	s.last = s.seq
	s.o.put(keySeq+s.node, []byte(strconv.FormatUint(s.seq, 10)))
	return s.putJSON(txKey(s.node, s.seq), tx)
}

// loadSeq reads the node's last transaction number, once per session.
func (s *session) loadSeq() (uint64, error) {
	if !s.seqLoaded {
		b, err := s.o.get(keySeq + s.node)
		if err != nil {
			return 0, err
		}
		if b != nil {
			if s.seq, err = strconv.ParseUint(string(b), 10, 64); err != nil {
				return 0, &Error{Op: s.op, Kind: KindInternal, Message: "stored sequence of " + s.node + " is corrupt", Err: err}
			}
		}
		s.seqLoaded = true
	}
	return s.seq, nil
}

// commit emits n (with the transactions recorded) and writes everything.
func (s *session) commit(n Notice) error {
	n.Node, n.FirstTx, n.LastTx = s.node, s.first, s.last
	b, err := json.Marshal(n)
	if err != nil {
		return &Error{Op: s.op, Kind: KindInternal, Message: "cannot encode the event", Err: err}
	}
	s.o.emit(n.Op, b)
	return wrap(s.op, s.o.commit())
}

// Balance returns the balance of account (0 for an account never used).
func (Contract) Balance(st State, account string) (Micro, error) {
	b, err := st.Get(keyBalance + account)
	if err != nil {
		return 0, wrap("chaincode.Balance", err)
	}
	m, err := parseMicro(keyBalance+account, b)
	return m, wrap("chaincode.Balance", err)
}

// Balances calls fn for every account with a stored balance, in lexical
// order of the account.
func (Contract) Balances(st State, fn func(account string, balance Micro) error) error {
	err := st.Range(keyBalance, prefixEnd(keyBalance), func(k string, v []byte) error {
		m, err := parseMicro(k, v)
		if err != nil {
			return err
		}
		return fn(strings.TrimPrefix(k, keyBalance), m)
	})
	return wrap("chaincode.Balances", err)
}

// Events calls fn for every recorded transaction, node by node in lexical
// order of the node, and in order of Seq within a node. A settlement's
// transactions, stored in batches, come one by one like the others.
func (Contract) Events(st State, fn func(tx Tx) error) error {
	return wrap("chaincode.Events", forEachTx(st, keyTx, prefixEnd(keyTx), fn))
}

// Conservation checks that no money was created or destroyed. The
// formulation: the balances of all accounts, external ones included, sum to
// exactly zero. An external account is debited when money enters through its
// node and credited when money leaves, so equivalently: the money held inside
// (listeners, escrow, pools, held, operators, artists) equals the money that
// came in minus the money paid out. It also checks that only external
// accounts are negative.
func (Contract) Conservation(st State) error {
	const op = "chaincode.Conservation"
	sum := new(big.Int)
	err := st.Range(keyBalance, prefixEnd(keyBalance), func(k string, v []byte) error {
		m, err := parseMicro(k, v)
		if err != nil {
			return err
		}
		account := strings.TrimPrefix(k, keyBalance)
		if m < 0 && AccountKind(account) != KindExternal {
			return errorf(op, KindInternal, account+" is negative: "+m.String())
		}
		sum.Add(sum, big.NewInt(int64(m)))
		return nil
	})
	if err != nil {
		return wrap(op, err)
	}
	if sum.Sign() != 0 {
		return errorf(op, KindInternal, "money was created or destroyed: the balances sum to "+sum.String()+" micro-USD, not 0")
	}
	return nil
}

// Audit replays every recorded transaction from zero and checks that each
// one is balanced with positive legs, that each node's transactions are
// numbered 1, 2, 3... without gaps, that the replay reproduces every stored
// balance exactly, and Conservation. This is what an outside auditor does
// with the event log.
func (c Contract) Audit(st State) error {
	const op = "chaincode.Audit"
	replay := map[string]*big.Int{}
	lastSeq := map[string]uint64{}
	var nodes []string
	err := c.Events(st, func(tx Tx) error {
		if _, ok := lastSeq[tx.Node]; !ok {
			nodes = append(nodes, tx.Node)
		}
		if tx.Seq != lastSeq[tx.Node]+1 {
			return errorf(op, KindInternal, fmt.Sprintf("transaction %d of %s follows %d", tx.Seq, tx.Node, lastSeq[tx.Node]))
		}
		lastSeq[tx.Node] = tx.Seq
		in, out := new(big.Int), new(big.Int)
		for _, legs := range [2][]Leg{tx.Inputs, tx.Outputs} {
			for _, l := range legs {
				if l.Amount <= 0 {
					return errorf(op, KindInternal, fmt.Sprintf("transaction %d of %s has a leg that is not positive", tx.Seq, tx.Node))
				}
			}
		}
		for _, l := range tx.Inputs {
			in.Add(in, big.NewInt(int64(l.Amount)))
			acc(replay, l.Account).Sub(acc(replay, l.Account), big.NewInt(int64(l.Amount)))
		}
		for _, l := range tx.Outputs {
			out.Add(out, big.NewInt(int64(l.Amount)))
			acc(replay, l.Account).Add(acc(replay, l.Account), big.NewInt(int64(l.Amount)))
		}
		if in.Cmp(out) != 0 {
			return errorf(op, KindInternal, fmt.Sprintf("transaction %d of %s is unbalanced: %s in, %s out", tx.Seq, tx.Node, in, out))
		}
		return nil
	})
	if err != nil {
		return wrap(op, err)
	}
	for _, n := range nodes {
		b, err := st.Get(keySeq + n)
		if err != nil {
			return wrap(op, err)
		}
		if string(b) != strconv.FormatUint(lastSeq[n], 10) {
			return errorf(op, KindInternal, "the sequence of "+n+" is "+string(b)+" but its last transaction is "+strconv.FormatUint(lastSeq[n], 10))
		}
	}
	seen := 0
	err = c.Balances(st, func(account string, m Micro) error {
		r, ok := replay[account]
		if !ok {
			r = new(big.Int)
		} else {
			seen++
		}
		if r.Cmp(big.NewInt(int64(m))) != 0 {
			return errorf(op, KindInternal, "the balance of "+account+" is "+m.String()+" but the transactions make it "+r.String()+" micro-USD")
		}
		return nil
	})
	if err != nil {
		return wrap(op, err)
	}
	if seen != len(replay) {
		return errorf(op, KindInternal, "some accounts moved by transactions have no stored balance")
	}
	return c.Conservation(st)
}

func acc(m map[string]*big.Int, account string) *big.Int {
	b, ok := m[account]
	if !ok {
		b = new(big.Int)
		m[account] = b
	}
	return b
}
