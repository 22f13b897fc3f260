// Package seal encrypts listening reports to their audience with age
// (filippo.io/age): X25519 recipients written "age1…", one of them the
// node's own identity, kept in a file of the data directory.
package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	nineten "nineten.dev"
)

// Cipher is the nineten.ReportCipher of one node.
type Cipher struct {
	id *age.X25519Identity
}

var _ nineten.ReportCipher = (*Cipher)(nil)

// Load reads the node's age identity from path, making it on first use.
// Two processes starting at once agree on one identity: the new one is
// written to a temporary file and linked into place, which fails if the
// other got there first, and then that one is read.
func Load(path string) (*Cipher, error) {
	c, err := read(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("making the node's age identity: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("writing the node's age identity: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600: the identity decrypts every report.
	_, err = fmt.Fprintf(tmp, "# the 9ten node's age identity: it decrypts the node's listening reports\n# public key: %s\n%s\n", id.Recipient(), id)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the node's age identity: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("writing the node's age identity: %w", err)
	}
	return read(path)
}

func read(path string) (*Cipher, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the node's age identity: %w", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil || len(ids) != 1 {
		return nil, fmt.Errorf("%s does not hold one age X25519 identity (AGE-SECRET-KEY-1…): restore it from a backup", path)
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return nil, fmt.Errorf("%s does not hold an age X25519 identity: restore it from a backup", path)
	}
	return &Cipher{id: id}, nil
}

// Recipient is the node's own recipient, "age1…".
func (c *Cipher) Recipient() string { return c.id.Recipient().String() }

// Encrypt encrypts plaintext so that each of recipients (each once) can
// decrypt it.
func (c *Cipher) Encrypt(plaintext []byte, recipients []string) ([]byte, error) {
	const op = "seal.Encrypt"
	rs, err := ParseRecipients(recipients)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if len(rs) == 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "a report needs at least one recipient")
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rs...)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, nineten.E(op, err)
	}
	if err := w.Close(); err != nil {
		return nil, nineten.E(op, err)
	}
	return out.Bytes(), nil
}

// Decrypt decrypts with the node's identity.
func (c *Cipher) Decrypt(ciphertext []byte) ([]byte, error) {
	return decrypt("seal.Decrypt", ciphertext, c.id)
}

// DecryptWith decrypts with the identities in r, an age identity file
// (an auditor's or a peer's): for reading a report outside the node.
func DecryptWith(ciphertext []byte, r io.Reader) ([]byte, error) {
	const op = "seal.DecryptWith"
	ids, err := age.ParseIdentities(r)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the identity file holds no age identity (AGE-SECRET-KEY-1…)", err)
	}
	return decrypt(op, ciphertext, ids...)
}

func decrypt(op string, ciphertext []byte, ids ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ciphertext), ids...)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, nineten.E(op, nineten.KindPermission, "the report is not encrypted to this identity", err)
	}
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the report's encrypted body is damaged", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the report's encrypted body is damaged", err)
	}
	return b, nil
}

// ParseRecipients parses age X25519 recipients ("age1…"), dropping
// repeats; the error names the one that is not a recipient.
func ParseRecipients(recipients []string) ([]age.Recipient, error) {
	var out []age.Recipient
	var seen []string
	for _, s := range recipients {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(seen, s) {
			continue
		}
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, nineten.E("seal.ParseRecipients", nineten.KindInvalid, fmt.Sprintf("%q is not an age X25519 recipient (age1…)", s), err)
		}
		seen = append(seen, s)
		out = append(out, r)
	}
	return out, nil
}
