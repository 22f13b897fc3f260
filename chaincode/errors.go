package chaincode

import (
	"errors"
	"strings"
)

// Kind classifies an error of the contract. The kinds mirror those of
// nineten.dev (the node maps them onto its own error kinds), but this package
// defines its own so that it builds as a stand-alone Fabric chaincode module
// that imports only the standard library.
type Kind uint8

const (
	KindInternal     Kind = iota // a broken invariant or a failing State: a bug or an outage
	KindInvalid                  // the input is malformed or breaks a rule
	KindNotFound                 // the thing does not exist
	KindConflict                 // already done, or done differently before
	KindInsufficient             // an account holds too little money
	KindOverflow                 // an amount does not fit in an int64 of micro-USD
)

var kindNames = [...]string{
	KindInternal:     "internal error",
	KindInvalid:      "invalid input",
	KindNotFound:     "not found",
	KindConflict:     "conflict",
	KindInsufficient: "insufficient funds",
	KindOverflow:     "amount overflow",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown error"
}

// Error is the error type of the contract: the operation, a kind, a message
// a person can act on, and an optional cause. It reads like a sentence:
// "chaincode.Subscribe: insufficient funds: listener:a/bob holds $3.000000, needs $10.000000".
type Error struct {
	Op      string // e.g. "chaincode.Settle"
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrConflict) (and the other kind sentinels) match
// any *Error of that kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.Err == nil && t.Kind == e.Kind
}

// Kind sentinels for errors.Is.
var (
	ErrInternal     = &Error{Kind: KindInternal}
	ErrInvalid      = &Error{Kind: KindInvalid}
	ErrNotFound     = &Error{Kind: KindNotFound}
	ErrConflict     = &Error{Kind: KindConflict}
	ErrInsufficient = &Error{Kind: KindInsufficient}
	ErrOverflow     = &Error{Kind: KindOverflow}
)

// ErrAlreadyCredited is the cause of the conflict returned when a payment
// with the same external id is deposited (or paid out) a second time.
var ErrAlreadyCredited = errors.New("already credited")

// KindOf returns the kind of the outermost classified *Error in err's chain,
// or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

func errorf(op string, kind Kind, msg string) error {
	return &Error{Op: op, Kind: kind, Message: msg}
}

// wrap adds op to an error coming from a helper: an *Error keeps its kind
// and message and gets the op if it had none; any other error (from the
// State) becomes an internal error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Op == "" {
			c := *e
			c.Op = op
			return &c
		}
		return err
	}
	return &Error{Op: op, Kind: KindInternal, Message: "the state store failed", Err: err}
}
