package seal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	nineten "nineten.dev"
)

// TestIdentityFile: made once, private, read back the same; a damaged file
// is refused with what to do.
func TestIdentityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.age")
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v, mode %v", err, fi.Mode())
	}
	b, err := Load(path)
	if err != nil || b.Recipient() != a.Recipient() || !strings.HasPrefix(a.Recipient(), "age1") {
		t.Fatalf("loaded again: %v, %s vs %s", err, b.Recipient(), a.Recipient())
	}
	if err := os.WriteFile(path, []byte("AGE-SECRET-KEY-1NOPE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "restore it from a backup") {
		t.Fatalf("a damaged identity: %v", err)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	dir := t.TempDir()
	node, _ := Load(filepath.Join(dir, "node.age"))
	peer, _ := Load(filepath.Join(dir, "peer.age"))
	other, _ := Load(filepath.Join(dir, "other.age"))
	ct, err := node.Encrypt([]byte("the day's listening"), []string{node.Recipient(), " " + peer.Recipient(), node.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Cipher{node, peer} {
		if pt, err := c.Decrypt(ct); err != nil || string(pt) != "the day's listening" {
			t.Fatalf("a recipient decrypts %q, %v", pt, err)
		}
	}
	if _, err := other.Decrypt(ct); nineten.ErrorKind(err) != nineten.KindPermission {
		t.Fatalf("not a recipient: %v", err)
	}
	f, _ := os.Open(filepath.Join(dir, "peer.age"))
	defer f.Close()
	if pt, err := DecryptWith(ct, f); err != nil || string(pt) != "the day's listening" {
		t.Fatalf("with the peer's identity file: %q, %v", pt, err)
	}
	if _, err := DecryptWith(ct, strings.NewReader("not an identity")); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Fatalf("a file without an identity: %v", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := node.Decrypt(ct); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Fatalf("a damaged body: %v", err)
	}
	if _, err := node.Encrypt([]byte("x"), []string{peer.Recipient(), "age1nope"}); err == nil || !strings.Contains(err.Error(), `"age1nope"`) {
		t.Fatalf("a bad recipient: %v", err)
	}
	if _, err := node.Encrypt([]byte("x"), nil); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Fatalf("no recipient: %v", err)
	}
}
