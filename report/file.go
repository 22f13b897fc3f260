package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	nineten "nineten.dev"
)

// A report file is three parts:
//
//	9ten-report/1 {header JSON}\n      the header, in the clear
//	<age ciphertext>                   the body: the whole report, encrypted
//	\n9ten-sig <base64 signature>\n    88 base64 characters: the trailer
//
// Its hash is the SHA-256 of the header line and the body (everything
// before the trailer); that hash is what the ledger anchors, and the
// signature is Ed25519 over "9ten listening report\n" and the hash, by the
// key the header names. So any change of a byte in the header or the body
// changes the hash, and of the trailer breaks the signature.
const (
	magic       = "9ten-report/1 "
	sigPrefix   = "\n9ten-sig "
	trailerSize = len(sigPrefix) + 88 + 1
	sigContext  = "9ten listening report\n"
)

// Header is a report's part in the clear.
type Header struct {
	ID         string   `json:"id"`
	Kind       string   `json:"kind"` // daily or monthly
	Node       string   `json:"node"`
	Day        string   `json:"day"` // YYYY-MM-DD, or YYYY-MM for a monthly report
	Signer     string   `json:"signer"`
	Content    string   `json:"content"`    // SHA-256 of the body's plaintext, hex
	Recipients []string `json:"recipients"` // age recipients the body is encrypted to
	Summary    Summary  `json:"summary"`    // the published part: small groups left out
}

// File is a parsed report file.
type File struct {
	Header Header
	Body   []byte // age ciphertext
	Hash   string // hex SHA-256 of header line and body: what the ledger anchors
	sig    []byte
	hash   []byte
}

// seal encrypts plaintext to recipients, writes the header and signs.
func seal(h Header, plaintext []byte, cipher nineten.ReportCipher, key ed25519.PrivateKey) ([]byte, string, error) {
	const op = "report.seal"
	sum := sha256.Sum256(plaintext)
	h.Content = hex.EncodeToString(sum[:])
	h.Signer = SignerString(key.Public().(ed25519.PublicKey))
	body, err := cipher.Encrypt(plaintext, h.Recipients)
	if err != nil {
		return nil, "", nineten.E(op, err)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, "", nineten.E(op, err)
	}
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write(hj)
	b.WriteByte('\n')
	b.Write(body)
	hash := sha256.Sum256(b.Bytes())
	sig := ed25519.Sign(key, append([]byte(sigContext), hash[:]...))
	b.WriteString(sigPrefix)
	b.WriteString(base64.StdEncoding.EncodeToString(sig))
	b.WriteByte('\n')
	return b.Bytes(), hex.EncodeToString(hash[:]), nil
}

// Parse reads a report file without checking its signature.
func Parse(file []byte) (*File, error) {
	const op = "report.Parse"
	bad := func(why string) error {
		return nineten.E(op, nineten.KindInvalid, "not an intact 9ten listening report: "+why)
	}
	if len(file) < len(magic)+trailerSize || !bytes.HasPrefix(file, []byte(magic)) {
		return nil, bad("it does not start with " + magic)
	}
	signed, trailer := file[:len(file)-trailerSize], file[len(file)-trailerSize:]
	if !bytes.HasPrefix(trailer, []byte(sigPrefix)) || trailer[len(trailer)-1] != '\n' {
		return nil, bad("its signature line is missing")
	}
	sig, err := base64.StdEncoding.DecodeString(string(trailer[len(sigPrefix) : len(trailer)-1]))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, bad("its signature is not 64 bytes of base64")
	}
	line, body, ok := bytes.Cut(signed[len(magic):], []byte{'\n'})
	if !ok {
		return nil, bad("its header has no end")
	}
	f := &File{Body: body, sig: sig}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.Header); err != nil {
		return nil, bad("its header is not the expected JSON: " + err.Error())
	}
	hash := sha256.Sum256(signed)
	f.hash, f.Hash = hash[:], hex.EncodeToString(hash[:])
	return f, nil
}

// Verify checks the signature against the signer the header names and,
// when want is not nil, that this signer is want.
func (f *File) Verify(want ed25519.PublicKey) error {
	const op = "report.Verify"
	pub, err := ParseSigner(f.Header.Signer)
	if err != nil {
		return nineten.E(op, err)
	}
	if want != nil && !pub.Equal(want) {
		return nineten.E(op, nineten.KindPermission, "report "+f.Header.ID+" is signed by "+f.Header.Signer+", not by "+SignerString(want))
	}
	if !ed25519.Verify(pub, append([]byte(sigContext), f.hash...), f.sig) {
		return nineten.E(op, nineten.KindPermission, "the signature of report "+f.Header.ID+" does not match: the file was altered")
	}
	return nil
}

// Open parses and verifies a report file (signed by want, when not nil)
// and decrypts its body with decrypt, checking it is the content the
// header names.
func Open(file []byte, want ed25519.PublicKey, decrypt func([]byte) ([]byte, error)) (*File, []byte, error) {
	const op = "report.Open"
	f, err := Parse(file)
	if err != nil {
		return nil, nil, err
	}
	if err := f.Verify(want); err != nil {
		return f, nil, err
	}
	plain, err := decrypt(f.Body)
	if err != nil {
		return f, nil, nineten.E(op, err)
	}
	sum := sha256.Sum256(plain)
	if hex.EncodeToString(sum[:]) != f.Header.Content {
		return f, nil, nineten.E(op, nineten.KindPermission, "the body of report "+f.Header.ID+" is not the content its header names")
	}
	return f, plain, nil
}
