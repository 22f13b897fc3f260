package chaincode

import (
	"slices"
	"strconv"
)

// Contract is the 9ten payment contract. It has no fields and no clock:
// every operation takes the State and explicit inputs (the node, the month)
// and is deterministic, so that the same contract runs in-process over an
// embedded ledger and as Hyperledger Fabric chaincode.
type Contract struct{}

// Status is the state of a subscription.
type Status string

const (
	Active    Status = "active"    // paid through Paid; renews from the balance
	Grace     Status = "grace"     // renewal for the month Grace failed: not paid, not in its pool
	Cancelled Status = "cancelled" // paid through Paid; will not renew
	Expired   Status = "expired"   // over; Subscribe starts a new one
)

// Subscription is a listener's subscription on a node.
type Subscription struct {
	Node     string `json:"node"`
	Listener string `json:"listener"`
	Status   Status `json:"status"`
	First    string `json:"first"`           // first month of the current run of months
	Paid     string `json:"paid"`            // last month paid for
	Grace    string `json:"grace,omitempty"` // the unpaid month in grace
}

// OpenResult is what OpenMonth did.
type OpenResult struct {
	Node        string `json:"node"`
	Period      string `json:"period"`
	Subscribers int64  `json:"subscribers"` // subscriptions split by this call
	ToOperator  Micro  `json:"toOperator"`
	ToPool      Micro  `json:"toPool"`
	Tx          uint64 `json:"tx,omitempty"`
}

// RenewSummary is what RenewAll did.
type RenewSummary struct {
	Node      string `json:"node"`
	Period    string `json:"period"`
	Renewed   int    `json:"renewed"`   // charged for the month
	Grace     int    `json:"grace"`     // could not pay: now in grace
	Expired   int    `json:"expired"`   // cancelled, or could not pay after grace
	Unchanged int    `json:"unchanged"` // already paid, still in grace, or expired
}

type extRecord struct {
	Node string `json:"node"`
	Seq  uint64 `json:"seq"`
}

type memberRecord struct {
	Listener string `json:"listener"`
	Opened   bool   `json:"opened"` // the $10 has been split into $1 + $9
	Tx       uint64 `json:"tx"`
}

type periodRecord struct {
	Node   string        `json:"node"`
	Period string        `json:"period"`
	Open   *OpenResult   `json:"open,omitempty"`
	Settle *SettleResult `json:"settle,omitempty"`
}

type nodeRecord struct {
	LastSettled string   `json:"lastSettled,omitempty"`
	Pending     []string `json:"pending,omitempty"` // months with paid subscriptions, not settled yet (sorted)
}

func subKey(node, listener string) string     { return keySub + node + "/" + listener }
func memberPrefix(node, period string) string { return keyMember + node + "/" + period + "/" }
func periodKey(node, period string) string    { return keyPeriod + node + "/" + period }
func heldKey(node, listener string) string    { return keyHeld + node + "/" + listener }

func (s *session) nodeRecord() (nodeRecord, error) {
	var n nodeRecord
	_, err := s.getJSON(keyNode+s.node, &n)
	return n, err
}

func (s *session) period(p string) (periodRecord, error) {
	r := periodRecord{Node: s.node, Period: p}
	_, err := s.getJSON(periodKey(s.node, p), &r)
	return r, err
}

// checkOpenForPayments refuses months that are settled already (or that
// precede a settled month): their pools are closed.
func (s *session) checkOpenForPayments(p string) error {
	n, err := s.nodeRecord()
	if err != nil {
		return err
	}
	if n.LastSettled != "" && p <= n.LastSettled {
		next, _ := NextPeriod(n.LastSettled)
		return errorf(s.op, KindConflict, "month "+p+" is closed: "+s.node+" has settled "+n.LastSettled+"; pay for "+next+" or later")
	}
	return nil
}

// Deposit credits amount, received from outside (a USDP transfer or a
// payment gateway), to the listener's balance on node. extID identifies the
// payment globally ("usdp:<tx hash>:<log index>", "<gateway>:<node>:<payment
// id>"): a payment is credited at most once. A second Deposit with an extID
// already used fails with a KindConflict error wrapping ErrAlreadyCredited
// and returns the transaction that credited it the first time, so the
// caller can reconcile; nothing moves.
func (Contract) Deposit(st State, node, listener, extID string, amount Micro) (Tx, error) {
	const op = "chaincode.Deposit"
	if err := firstErr(checkID(op, "node", node), checkID(op, "listener", listener), checkID(op, "external id", extID)); err != nil {
		return Tx{}, err
	}
	if amount <= 0 {
		return Tx{}, errorf(op, KindInvalid, "a deposit must be positive, not "+amount.String())
	}
	s := begin(st, op, node)
	if prev, err := s.checkExt(extID, "credited"); err != nil {
		return prev, err
	}
	tx := Tx{Op: "deposit", Listener: listener, Ref: extID,
		Inputs:  []Leg{{ExternalAccount(node), amount}},
		Outputs: []Leg{{ListenerAccount(node, listener), amount}}}
	if err := s.record(&tx); err != nil {
		return Tx{}, err
	}
	if err := s.putJSON(keyExt+extID, extRecord{Node: node, Seq: tx.Seq}); err != nil {
		return Tx{}, err
	}
	return tx, s.commit(Notice{Op: "deposit", Listener: listener, Ref: extID})
}

func (s *session) checkExt(extID, verb string) (Tx, error) {
	var ext extRecord
	found, err := s.getJSON(keyExt+extID, &ext)
	if err != nil {
		return Tx{}, wrap(s.op, err)
	}
	if !found {
		return Tx{}, nil
	}
	var prev Tx
	if _, err := s.getJSON(txKey(ext.Node, ext.Seq), &prev); err != nil {
		return Tx{}, wrap(s.op, err)
	}
	return prev, &Error{Op: s.op, Kind: KindConflict,
		Message: "payment " + strconv.Quote(extID) + " was " + verb + " before, in transaction " + strconv.FormatUint(ext.Seq, 10) + " of " + ext.Node + "; nothing was moved",
		Err:     ErrAlreadyCredited}
}

// Payout records amount leaving to the outside world from an account of
// node (a listener's refund, an artist's or the operator's withdrawal), or
// from the account of an artist of another node whose earnings node's
// listeners paid: the paying node keeps that money and pays it out to the
// artist (its home node only records the statements). Like
// Deposit it is idempotent by extID (the same namespace): a repeated extID
// fails with a KindConflict error wrapping ErrAlreadyCredited and returns the
// first transaction.
func (Contract) Payout(st State, node, account, extID string, amount Micro) (Tx, error) {
	const op = "chaincode.Payout"
	if err := firstErr(checkID(op, "node", node), checkID(op, "external id", extID)); err != nil {
		return Tx{}, err
	}
	switch AccountKind(account) {
	case KindListener, KindArtist, KindOperator:
	default:
		return Tx{}, errorf(op, KindInvalid, "only listener, artist and operator accounts are paid out, not "+strconv.Quote(account))
	}
	if accountNode(account) != node && AccountKind(account) != KindArtist {
		return Tx{}, errorf(op, KindInvalid, account+" is not an account of "+node)
	}
	if amount <= 0 {
		return Tx{}, errorf(op, KindInvalid, "a payout must be positive, not "+amount.String())
	}
	s := begin(st, op, node)
	if prev, err := s.checkExt(extID, "paid out"); err != nil {
		return prev, err
	}
	tx := Tx{Op: "payout", Ref: extID,
		Inputs:  []Leg{{account, amount}},
		Outputs: []Leg{{ExternalAccount(node), amount}}}
	if err := s.record(&tx); err != nil {
		return Tx{}, err
	}
	if err := s.putJSON(keyExt+extID, extRecord{Node: node, Seq: tx.Seq}); err != nil {
		return Tx{}, err
	}
	return tx, s.commit(Notice{Op: "payout", Ref: extID})
}

// charge takes the month's $10 from the listener's balance. Before the
// month is opened the $10 waits in escrow:<node>/<period>; after, it is
// split at once: $1 to the operator, $9 into the month's pool.
func (s *session) charge(listener, period, txOp string) error {
	mk := memberPrefix(s.node, period) + listener
	var m memberRecord
	found, err := s.getJSON(mk, &m)
	if err != nil {
		return wrap(s.op, err)
	}
	if found {
		return errorf(s.op, KindConflict, listener+" has already paid for "+period)
	}
	pr, err := s.period(period)
	if err != nil {
		return wrap(s.op, err)
	}
	tx := Tx{Op: txOp, Period: period, Listener: listener, Inputs: []Leg{{ListenerAccount(s.node, listener), Price}}}
	if pr.Open != nil {
		tx.Outputs = []Leg{{OperatorAccount(s.node), OperatorShare}, {PoolAccount(s.node, period), PoolShare}}
	} else {
		tx.Outputs = []Leg{{EscrowAccount(s.node, period), Price}}
	}
	if err := s.record(&tx); err != nil {
		return err
	}
	n, err := s.nodeRecord()
	if err != nil {
		return wrap(s.op, err)
	}
	if i, ok := slices.BinarySearch(n.Pending, period); !ok {
		n.Pending = slices.Insert(n.Pending, i, period)
		if err := s.putJSON(keyNode+s.node, n); err != nil {
			return err
		}
	}
	return s.putJSON(mk, memberRecord{Listener: listener, Opened: pr.Open != nil, Tx: tx.Seq})
}

func (s *session) subscription(listener string) (Subscription, bool, error) {
	var sub Subscription
	found, err := s.getJSON(subKey(s.node, listener), &sub)
	return sub, found, wrap(s.op, err)
}

// Subscribe pays for period from the listener's balance and makes the
// subscription active. A month is a month: subscribing in the middle of it
// costs the full $10 and covers the whole month (its listening totals, as
// the node reports them, decide the split); if the month was already opened
// the $1/$9 split happens at once. Settled months are closed. Cases:
//   - new or expired subscription: starts a run at period;
//   - cancelled: for a month already paid, it is simply un-cancelled; for a
//     later month, that month is paid and the subscription is active again;
//   - active: paying for a later month is paying ahead (months skipped are
//     not paid and not in their pools); a month already paid is a conflict;
//   - grace: pays for the month in grace, or a later one.
//
// Too little balance is a KindInsufficient error and changes nothing.
func (Contract) Subscribe(st State, node, listener, period string) (Subscription, error) {
	const op = "chaincode.Subscribe"
	if err := firstErr(checkID(op, "node", node), checkID(op, "listener", listener), checkPeriod(op, period)); err != nil {
		return Subscription{}, err
	}
	s := begin(st, op, node)
	if err := s.checkOpenForPayments(period); err != nil {
		return Subscription{}, wrap(op, err)
	}
	sub, found, err := s.subscription(listener)
	if err != nil {
		return Subscription{}, err
	}
	switch {
	case !found || sub.Status == Expired:
		if found && period <= sub.Paid {
			return sub, errorf(op, KindConflict, listener+" has already paid for "+period+"; subscribe for a later month")
		}
		if err := s.charge(listener, period, "subscribe"); err != nil {
			return sub, err
		}
		sub = Subscription{Node: node, Listener: listener, Status: Active, First: period, Paid: period}
	case sub.Status == Cancelled && period <= sub.Paid:
		sub.Status = Active
	case sub.Status == Grace && period < sub.Grace:
		return sub, errorf(op, KindConflict, listener+"'s subscription is in grace for "+sub.Grace+"; subscribe for "+sub.Grace+" or later")
	case period <= sub.Paid:
		return sub, errorf(op, KindConflict, listener+" is already subscribed through "+sub.Paid)
	default: // cancelled, active or grace, for a month not paid yet
		if err := s.charge(listener, period, "subscribe"); err != nil {
			return sub, err
		}
		sub.Status, sub.Paid, sub.Grace = Active, period, ""
	}
	if err := s.putJSON(subKey(node, listener), sub); err != nil {
		return sub, err
	}
	return sub, s.commit(Notice{Op: "subscribe", Period: period, Listener: listener, Status: string(sub.Status)})
}

// renewOne applies automatic renewal for period to sub and reports whether
// it changed. Active: pay period from the balance if it holds $10, else go
// into grace for period. Grace: retry; a later month that still cannot be
// paid expires the subscription. Cancelled: expires once its paid months
// are over. Expired: nothing.
func (s *session) renewOne(sub *Subscription, period string) (bool, error) {
	canPay := func() (bool, error) {
		b, err := s.balance(ListenerAccount(s.node, sub.Listener))
		return b >= Price, wrap(s.op, err)
	}
	switch sub.Status {
	case Active:
		if period <= sub.Paid {
			return false, nil
		}
		ok, err := canPay()
		if err != nil {
			return false, err
		}
		if !ok {
			sub.Status, sub.Grace = Grace, period
			return true, nil
		}
		if err := s.charge(sub.Listener, period, "renew"); err != nil {
			return false, err
		}
		sub.Paid = period
		return true, nil
	case Grace:
		if period < sub.Grace {
			return false, nil
		}
		ok, err := canPay()
		if err != nil {
			return false, err
		}
		switch {
		case ok:
			if err := s.charge(sub.Listener, period, "renew"); err != nil {
				return false, err
			}
			sub.Status, sub.Paid, sub.Grace = Active, period, ""
		case period == sub.Grace:
			return false, nil
		default:
			sub.Status, sub.Grace = Expired, ""
		}
		return true, nil
	case Cancelled:
		if period <= sub.Paid {
			return false, nil
		}
		sub.Status = Expired
		return true, nil
	}
	return false, nil
}

// Renew applies automatic renewal for period to one listener's subscription
// (see RenewAll for the rules). Renewing for a month already paid, or an
// expired subscription, changes nothing.
func (Contract) Renew(st State, node, listener, period string) (Subscription, error) {
	const op = "chaincode.Renew"
	if err := firstErr(checkID(op, "node", node), checkID(op, "listener", listener), checkPeriod(op, period)); err != nil {
		return Subscription{}, err
	}
	s := begin(st, op, node)
	if err := s.checkOpenForPayments(period); err != nil {
		return Subscription{}, wrap(op, err)
	}
	sub, found, err := s.subscription(listener)
	if err != nil {
		return Subscription{}, err
	}
	if !found {
		return Subscription{}, errorf(op, KindNotFound, listener+" has no subscription on "+node)
	}
	changed, err := s.renewOne(&sub, period)
	if err != nil || !changed {
		return sub, err
	}
	if err := s.putJSON(subKey(node, listener), sub); err != nil {
		return sub, err
	}
	return sub, s.commit(Notice{Op: "renew", Period: period, Listener: listener, Status: string(sub.Status)})
}

// RenewAll is the automatic renewal the node runs before the 1st of
// period, for every subscription of node, in order of listener id:
//   - active and not yet paid for period: $10 from the balance; if the
//     balance holds less, the subscription goes into grace for period (not
//     charged, not in that month's pool; the listener can top up and be
//     renewed for period until it is settled);
//   - in grace: renewal is retried; if a later month comes and the balance
//     still cannot pay it, the subscription expires;
//   - cancelled: expires when period is after its last paid month.
//
// It is idempotent: running it again for the same month changes nothing
// more (except renewing listeners in grace who have topped up since).
func (Contract) RenewAll(st State, node, period string) (RenewSummary, error) {
	const op = "chaincode.RenewAll"
	sum := RenewSummary{Node: node, Period: period}
	if err := firstErr(checkID(op, "node", node), checkPeriod(op, period)); err != nil {
		return sum, err
	}
	s := begin(st, op, node)
	if err := s.checkOpenForPayments(period); err != nil {
		return sum, wrap(op, err)
	}
	prefix := keySub + node + "/"
	var subs []Subscription
	err := s.o.rangeKeys(prefix, prefixEnd(prefix), func(k string, _ []byte) error {
		var sub Subscription
		if _, err := s.getJSON(k, &sub); err != nil {
			return err
		}
		subs = append(subs, sub)
		return nil
	})
	if err != nil {
		return sum, wrap(op, err)
	}
	for _, sub := range subs {
		changed, err := s.renewOne(&sub, period)
		if err != nil {
			return RenewSummary{Node: node, Period: period}, err
		}
		if !changed {
			sum.Unchanged++
			continue
		}
		switch sub.Status {
		case Active:
			sum.Renewed++
		case Grace:
			sum.Grace++
		case Expired:
			sum.Expired++
		}
		if err := s.putJSON(subKey(node, sub.Listener), sub); err != nil {
			return RenewSummary{Node: node, Period: period}, err
		}
	}
	if sum.Renewed+sum.Grace+sum.Expired == 0 {
		return sum, nil
	}
	return sum, s.commit(Notice{Op: "renew-all", Period: period})
}

// Cancel stops renewal at the end of the months already paid: an active
// subscription becomes cancelled (it stays in the pools it paid for; there
// is no refund), one in grace expires at once (nothing was paid). Cancelling
// a cancelled or expired subscription changes nothing.
func (Contract) Cancel(st State, node, listener string) (Subscription, error) {
	const op = "chaincode.Cancel"
	if err := firstErr(checkID(op, "node", node), checkID(op, "listener", listener)); err != nil {
		return Subscription{}, err
	}
	s := begin(st, op, node)
	sub, found, err := s.subscription(listener)
	if err != nil {
		return Subscription{}, err
	}
	if !found {
		return Subscription{}, errorf(op, KindNotFound, listener+" has no subscription on "+node)
	}
	switch sub.Status {
	case Active:
		sub.Status = Cancelled
	case Grace:
		sub.Status, sub.Grace = Expired, ""
	default:
		return sub, nil
	}
	if err := s.putJSON(subKey(node, listener), sub); err != nil {
		return sub, err
	}
	return sub, s.commit(Notice{Op: "cancel", Listener: listener, Status: string(sub.Status)})
}

// SubscriptionOf returns the listener's subscription on node.
func (Contract) SubscriptionOf(st State, node, listener string) (Subscription, bool, error) {
	return begin(st, "chaincode.SubscriptionOf", node).subscription(listener)
}

// Members returns the listeners who paid for period on node, in order.
func (Contract) Members(st State, node, period string) ([]string, error) {
	var out []string
	p := memberPrefix(node, period)
	err := st.Range(p, prefixEnd(p), func(k string, _ []byte) error {
		out = append(out, k[len(p):])
		return nil
	})
	return out, wrap("chaincode.Members", err)
}

// Unsettled returns the months of node that listeners paid for and that are
// not settled yet, oldest first: what a node that was down on a settle day
// still owes its artists.
func (Contract) Unsettled(st State, node string) ([]string, error) {
	const op = "chaincode.Unsettled"
	if err := checkID(op, "node", node); err != nil {
		return nil, err
	}
	n, err := begin(st, op, node).nodeRecord()
	return slices.Clone(n.Pending), wrap(op, err)
}

// OpenMonth is what happens on the 1st: every $10 paid for period on node
// and still in escrow is split, $1 to operator:<node> and $9 into
// pool:<node>/<period>, in one transaction. Subscriptions paid later in the
// month are split as they are paid. It is idempotent per node and month:
// calling it again returns the first result and moves nothing.
func (Contract) OpenMonth(st State, node, period string) (OpenResult, error) {
	const op = "chaincode.OpenMonth"
	if err := firstErr(checkID(op, "node", node), checkPeriod(op, period)); err != nil {
		return OpenResult{}, err
	}
	s := begin(st, op, node)
	pr, err := s.period(period)
	if err != nil {
		return OpenResult{}, wrap(op, err)
	}
	if pr.Open != nil {
		return *pr.Open, nil
	}
	if err := s.checkOpenForPayments(period); err != nil {
		return OpenResult{}, wrap(op, err)
	}
	res := OpenResult{Node: node, Period: period}
	prefix := memberPrefix(node, period)
	var toOpen []memberRecord
	err = s.o.rangeKeys(prefix, prefixEnd(prefix), func(k string, _ []byte) error {
		var m memberRecord
		if _, err := s.getJSON(k, &m); err != nil {
			return err
		}
		if !m.Opened {
			toOpen = append(toOpen, m)
		}
		return nil
	})
	if err != nil {
		return OpenResult{}, wrap(op, err)
	}
	if n := int64(len(toOpen)); n > 0 {
		in, err1 := Price.Mul(n)
		opShare, err2 := OperatorShare.Mul(n)
		pool, err3 := PoolShare.Mul(n)
		if err := firstErr(err1, err2, err3); err != nil {
			return OpenResult{}, wrap(op, err)
		}
		tx := Tx{Op: "open", Period: period,
			Inputs:  []Leg{{EscrowAccount(node, period), in}},
			Outputs: []Leg{{OperatorAccount(node), opShare}, {PoolAccount(node, period), pool}}}
		if err := s.record(&tx); err != nil {
			return OpenResult{}, err
		}
		res.Subscribers, res.ToOperator, res.ToPool, res.Tx = n, opShare, pool, tx.Seq
		for _, m := range toOpen {
			m.Opened = true
			if err := s.putJSON(prefix+m.Listener, m); err != nil {
				return OpenResult{}, err
			}
		}
	}
	if b, err := s.balance(EscrowAccount(node, period)); err != nil || b != 0 {
		return OpenResult{}, firstErr(wrap(op, err), errorf(op, KindInternal, "escrow of "+period+" still holds "+b.String()+" after opening"))
	}
	pr.Open = &res
	if err := s.putJSON(periodKey(node, period), pr); err != nil {
		return OpenResult{}, err
	}
	return res, s.commit(Notice{Op: "open", Period: period})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
