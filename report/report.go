// Package report makes the node's listening reports: each UTC day's
// verified listening, aggregated per track, per artist and per
// listener × artist under monthly pseudonyms, encrypted to the node's
// audience, signed and anchored on the ledger; and each month's report,
// compiled from the dailies and checked, which is what the settlement pays
// from. It also writes and checks audit bundles.
//
// What is published and what is sealed: a report file carries a header in
// the clear — the report's id, day, signer, recipients and a summary in
// which every group (the day's totals, a track, an artist) heard by fewer
// than K distinct listeners is left out and only counted — and an
// age-encrypted body with everything: all groups unsuppressed and the
// per-listener × artist lines the settlement needs, readable only by the
// node, its cluster peers and the configured auditors. No listener id, IP
// address, user agent or time of a listen is in either: listeners are
// HMAC pseudonyms under a key of the month.
//
// The node makes reports with Service.Daily and Service.Monthly (which
// returns the month's Checked findings; Service.Check runs them again),
// settles from Service.SettlementTotals and exports with Service.Export.
// Anyone holding a report file reads it with Parse, checks it with
// File.Verify (against the signer ParseSigner reads from a node actor's
// reportSigner) and, as a recipient, decrypts it with Open and
// DecodeDaily or DecodeMonthly; a peer reviewing a month runs CheckMonth
// on the decrypted monthly report and its dailies, and anyone checks an
// audit bundle with VerifyBundle.
package report

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"

	nineten "nineten.dev"
)

// DefaultK is how many distinct listeners a group needs to be published.
const DefaultK = 10

// Service makes and checks one node's listening reports.
type Service struct {
	Store  nineten.Store
	Ledger nineten.Ledger
	Cipher nineten.ReportCipher
	Clock  nineten.Clock
	Node   string // the node's name on the ledger
	// Secret is the node's secret (node.secret): it derives the monthly
	// pseudonym keys and the report signing key, so that every process of
	// a node makes the same pseudonyms and signatures.
	Secret []byte
	// Audience returns the recipients besides the node itself: its cluster
	// peers' and the auditors' age recipients.
	Audience func(ctx context.Context) ([]string, error)
	K        int // groups with fewer distinct listeners are not published (default DefaultK)
	Log      *slog.Logger
	// BeforeDaily, when set, runs before a day's report reads its
	// listening: the fake-stream detector looks at the day if it has not
	// since the day ended, so that the report leaves out what it flags.
	BeforeDaily func(ctx context.Context, day time.Time) error
	// PeerKey fetches the Ed25519 key a peer's node actor publishes under
	// keyID (federation.Service.AssertionKey): an audit bundle carries it
	// with each peer attestation, so that the bundle is checked offline.
	PeerKey func(ctx context.Context, keyID string) (ed25519.PublicKey, error)

	// mu makes one report at a time in this process: the calendar and a
	// settlement may ask for the same month at once, and two sealings of
	// the same content would anchor two versions.
	mu sync.Mutex
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) k() int {
	if s.K <= 0 {
		return DefaultK
	}
	return s.K
}

// derive is HMAC-SHA256(secret, label): independent keys from one secret.
func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// signingKey signs the node's reports. It is derived from node.secret
// rather than being the ledger key: the ledger key moves money and stays
// in the ledger, while report signatures are checked by peers and auditors
// and the key's public half is published in the node's actor; node.secret
// already decides which listens are verified, so a key derived from it
// gives its holder no new power.
func (s *Service) signingKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(derive(s.Secret, "9ten report signing key v1"))
}

// Signer is the public key that signs the node's reports, written
// "ed25519:<base64>" as in report headers and on the ledger.
func (s *Service) Signer() string { return SignerString(s.signingKey().Public().(ed25519.PublicKey)) }

// SignerString writes an Ed25519 public key as reports name their signer.
func SignerString(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// ParseSigner reads a key written by SignerString.
func ParseSigner(s string) (ed25519.PublicKey, error) {
	const prefix = "ed25519:"
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		if b, err := base64.StdEncoding.DecodeString(s[len(prefix):]); err == nil && len(b) == ed25519.PublicKeySize {
			return ed25519.PublicKey(b), nil
		}
	}
	return nil, nineten.E("report.ParseSigner", nineten.KindInvalid, strconv.Quote(s)+" is not a signer written ed25519:<base64 of 32 bytes>")
}

// pseudonyms turns listener ids into one month's pseudonyms: HMAC-SHA256
// under a key derived from the node's secret and the month, so the days of
// a month link (the settlement sums them) and months do not.
type pseudonyms struct {
	key []byte
	ID  string // names the key without revealing it
}

func (s *Service) pseudonymsOf(month nineten.Period) pseudonyms {
	key := derive(s.Secret, "9ten listener pseudonyms "+string(month))
	return pseudonyms{key: key, ID: hex.EncodeToString(derive(key, "key id")[:8])}
}

func (p pseudonyms) of(user nineten.ID) string {
	return hex.EncodeToString(derive(p.key, strconv.FormatInt(int64(user), 10))[:16])
}

// DailyID and MonthlyID name reports on the ledger and in the store.
func DailyID(day string) string         { return "daily-" + day }
func MonthlyID(m nineten.Period) string { return "monthly-" + string(m) }

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func base64StdDecode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
