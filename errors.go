package nineten

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that boundaries (HTTP, CLI) can answer it
// properly without knowing where it came from.
type Kind int

const (
	KindOther           Kind = iota // unclassified: an internal error
	KindInvalid                     // the input is malformed or breaks a rule
	KindNotFound                    // the thing does not exist or is not visible
	KindConflict                    // the thing already exists or changed meanwhile
	KindUnauthenticated             // who is asking is unknown
	KindPermission                  // the caller may not do this
	KindTooLarge                    // the input exceeds a size limit
	KindUnsupported                 // the media type or format is not supported
	KindUnavailable                 // a dependency is not ready; retry later
)

var kindNames = map[Kind]string{
	KindOther:           "internal error",
	KindInvalid:         "invalid input",
	KindNotFound:        "not found",
	KindConflict:        "conflict",
	KindUnauthenticated: "not logged in",
	KindPermission:      "permission denied",
	KindTooLarge:        "too large",
	KindUnsupported:     "unsupported media type",
	KindUnavailable:     "unavailable",
}

func (k Kind) String() string { return kindNames[k] }

// Error is the error type of 9ten: an operation, a kind and a message a
// person can act on, optionally wrapping a cause. It reads like a sentence:
// "catalog.Upload: unsupported media type: the file is not audio".
type Error struct {
	Op      string // the operation that failed, e.g. "catalog.Upload"
	Kind    Kind
	Message string // for the user: what went wrong and what to do
	Err     error  // the underlying cause, for logs
}

// E builds an *Error. Arguments may be, in any order: an op string
// (containing a dot and no spaces), a Kind, a message string, an error.
func E(args ...any) error {
	e := &Error{}
	for _, a := range args {
		switch a := a.(type) {
		case nil:
			// A nil cause is no cause: E(op, kind, msg, err) with err == nil is fine.
		case Kind:
			e.Kind = a
		case error:
			e.Err = a
		case string:
			if e.Op == "" && e.Message == "" && strings.Contains(a, ".") && !strings.ContainsAny(a, " ") {
				e.Op = a
			} else {
				e.Message = a
			}
		default:
			panic(fmt.Sprintf("nineten.E: bad argument %T", a))
		}
	}
	// Inherit the kind of a wrapped *Error so classification survives layers.
	var inner *Error
	if e.Kind == KindOther && errors.As(e.Err, &inner) {
		e.Kind = inner.Kind
	}
	return e
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

// ErrorKind returns the kind of the outermost classified error in err's
// chain, or KindOther.
func ErrorKind(err error) Kind {
	var e *Error
	for errors.As(err, &e) {
		if e.Kind != KindOther {
			return e.Kind
		}
		err = e.Err
	}
	return KindOther
}

// ErrorMessage returns the user-facing message of the outermost *Error in
// err's chain that has one, or "".
func ErrorMessage(err error) string {
	var e *Error
	for errors.As(err, &e) {
		if e.Message != "" {
			return e.Message
		}
		err = e.Err
	}
	return ""
}
