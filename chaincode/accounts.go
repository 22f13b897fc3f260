package chaincode

import (
	"strconv"
	"strings"
)

// Accounts are strings "<kind>:<owner>". Nodes, listeners, artists and
// external ids are IDs: 1 to 128 characters from A–Z a–z 0–9 and . _ ~ @ : + -
// (a node is usually its host name, e.g. "music.example" or
// "music.example:8443"). An artist is referred to across the federation as
// "<node>/<id>".
const (
	KindListener = "listener" // listener:<node>/<listener>   prepaid balance of a listener
	KindArtist   = "artist"   // artist:<node>/<artist>       earnings of an artist (any node)
	KindOperator = "operator" // operator:<node>              the node operator's $1s
	KindEscrow   = "escrow"   // escrow:<node>/<YYYY-MM>      $10s paid for a month not yet opened
	KindPool     = "pool"     // pool:<node>/<YYYY-MM>        the month's $9s until settlement
	KindHeld     = "held"     // held:<node>/<listener>       $9s of months without listening
	KindExternal = "external" // external:<node>              the outside world; negative: money that came in
)

// ListenerAccount is the prepaid balance of a listener of node.
func ListenerAccount(node, listener string) string { return KindListener + ":" + node + "/" + listener }

// ArtistAccount is the earnings account of an artist homed at node.
func ArtistAccount(node, artist string) string { return KindArtist + ":" + node + "/" + artist }

// OperatorAccount receives the node operator's $1 per subscription.
func OperatorAccount(node string) string { return KindOperator + ":" + node }

// EscrowAccount holds the $10s paid for period before OpenMonth.
func EscrowAccount(node, period string) string { return KindEscrow + ":" + node + "/" + period }

// PoolAccount holds period's $9s between OpenMonth and Settle.
func PoolAccount(node, period string) string { return KindPool + ":" + node + "/" + period }

// HeldAccount holds a listener's $9s of months without eligible listening.
func HeldAccount(node, listener string) string { return KindHeld + ":" + node + "/" + listener }

// ExternalAccount is the outside world seen from node: deposits are debited
// from it and payouts credited to it, so its balance is minus the money that
// node brought in and did not pay out.
func ExternalAccount(node string) string { return KindExternal + ":" + node }

// AccountKind returns the kind part of an account ("listener", "artist", ...).
func AccountKind(account string) string {
	kind, _, _ := strings.Cut(account, ":")
	return kind
}

// accountNode returns the node an account lives on.
func accountNode(account string) string {
	_, rest, _ := strings.Cut(account, ":")
	node, _, _ := strings.Cut(rest, "/")
	return node
}

// idChar marks the bytes allowed in an ID.
var idChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("._~@:+-") {
		t[c] = true
	}
	return t
}()

// validID reports whether s is a well-formed ID.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar[s[i]] {
			return false
		}
	}
	return true
}

func checkID(op, what, s string) error {
	if !validID(s) {
		return errorf(op, KindInvalid, what+" "+strconv.Quote(s)+" is not a valid id (1–128 characters from A–Z a–z 0–9 . _ ~ @ : + -)")
	}
	return nil
}

// splitArtist parses an artist reference "<node>/<id>".
func splitArtist(ref string) (node, id string, ok bool) {
	node, id, ok = strings.Cut(ref, "/")
	return node, id, ok && validID(node) && validID(id)
}

// validPeriod reports whether p is "YYYY-MM" with a year 1000–9999 and a
// month 01–12. Periods in this form sort lexically in time order.
func validPeriod(p string) bool {
	if len(p) != 7 || p[4] != '-' || p[0] == '0' {
		return false
	}
	for i, c := range []byte(p) {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	m := (p[5]-'0')*10 + p[6] - '0'
	return m >= 1 && m <= 12
}

func checkPeriod(op, p string) error {
	if !validPeriod(p) {
		return errorf(op, KindInvalid, "period "+strconv.Quote(p)+" is not a month written YYYY-MM")
	}
	return nil
}

// NextPeriod returns the month after p ("2025-12" → "2026-01").
func NextPeriod(p string) (string, error) {
	if !validPeriod(p) {
		return "", errorf("chaincode.NextPeriod", KindInvalid, "period "+strconv.Quote(p)+" is not a month written YYYY-MM")
	}
	y, _ := strconv.Atoi(p[:4])
	m, _ := strconv.Atoi(p[5:])
	m++
	if m == 13 {
		y, m = y+1, 1
	}
	if y > 9999 {
		return "", errorf("chaincode.NextPeriod", KindInvalid, "no month after "+p)
	}
	return strconv.Itoa(y) + "-" + string(rune('0'+m/10)) + string(rune('0'+m%10)), nil
}
