package report_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/report"
	"nineten.dev/seal"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// dayWithListening stores a small day and its report.
func dayWithListening(t *testing.T, w *world) *nineten.StoredReport {
	t.Helper()
	day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
	_, at := w.artist("a", 1)
	for _, name := range []string{"u1", "u2", "u3"} {
		w.listen(w.user(name), at[0], day.Add(time.Hour), 60_000, nineten.ListenVerified)
	}
	r, err := w.reports.Daily(t.Context(), "2025-06-03", nil)
	ok(t, err)
	return r
}

// TestOnlyRecipientsDecrypt: the node and the configured auditor read a
// report; an identity that is not in its audience cannot.
func TestOnlyRecipientsDecrypt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db, time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC))
		r := dayWithListening(t, w)
		f, err := report.Parse(r.File)
		ok(t, err)
		if len(f.Header.Recipients) != 2 || f.Header.Recipients[0] != w.reports.Cipher.Recipient() || f.Header.Recipients[1] != w.auditor.Recipient() {
			t.Fatalf("recipients %q; want the node's and the auditor's", f.Header.Recipients)
		}
		for name, decrypt := range map[string]func([]byte) ([]byte, error){"node": w.reports.Cipher.Decrypt, "auditor": w.auditor.Decrypt} {
			_, plain, err := report.Open(r.File, nil, decrypt)
			if err != nil {
				t.Fatalf("%s cannot read the report: %v", name, err)
			}
			if d, err := report.DecodeDaily(plain); err != nil || d.Totals.Listens != 3 {
				t.Fatalf("%s reads %+v, %v", name, d, err)
			}
		}
		stranger, err := seal.Load(filepath.Join(t.TempDir(), "stranger.age"))
		ok(t, err)
		_, plain, err := report.Open(r.File, nil, stranger.Decrypt)
		if nineten.ErrorKind(err) != nineten.KindPermission || plain != nil {
			t.Fatalf("a stranger opening the report: %v; want a permission error and nothing read", err)
		}
	})
}

// TestEveryAlteredByteFails flips each byte of a report file in turn —
// header, encrypted body and signature — and checks that verification
// fails every time; and that another key's signature is refused.
func TestEveryAlteredByteFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db, time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC))
		r := dayWithListening(t, w)
		signer, err := report.ParseSigner(w.reports.Signer())
		ok(t, err)
		f, err := report.Parse(r.File)
		ok(t, err)
		ok(t, f.Verify(signer))
		headerEnd := bytes.IndexByte(r.File, '\n')
		bodyEnd := len(r.File) - 99
		classes := map[string]int{}
		for i := range r.File {
			altered := bytes.Clone(r.File)
			altered[i] ^= 0x01
			if f, err := report.Parse(altered); err == nil && f.Verify(signer) == nil {
				t.Fatalf("byte %d of %d altered and the report still verifies", i, len(r.File))
			}
			switch {
			case i < headerEnd:
				classes["header"]++
			case i < bodyEnd:
				classes["body"]++
			default:
				classes["signature"]++
			}
		}
		if classes["header"] < 100 || classes["body"] < 100 || classes["signature"] != 99 {
			t.Fatalf("bytes flipped per part: %v", classes)
		}
		// Cut short or lengthened: refused too.
		for _, altered := range [][]byte{r.File[:len(r.File)-1], append(bytes.Clone(r.File), '\n')} {
			if f, err := report.Parse(altered); err == nil && f.Verify(signer) == nil {
				t.Fatal("a report of another length verifies")
			}
		}
		// Signed by someone else: the signature may hold, the signer does not.
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		if err := f.Verify(other); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Fatalf("verifying against another key: %v", err)
		}
	})
}
