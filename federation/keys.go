package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	nineten "nineten.dev"
)

// Keypair is an actor's signing keys, parsed.
type Keypair struct {
	RSA     *rsa.PrivateKey
	Ed25519 ed25519.PrivateKey
}

// Keys returns an actor's keys, making them on first use. Two processes
// racing to make them agree on whichever was stored first.
func (f *Service) Keys(ctx context.Context, actor string) (*Keypair, error) {
	const op = "federation.Keys"
	if k, ok := f.keys.Load(actor); ok {
		return k.(*Keypair), nil
	}
	stored, err := f.Store.ActorKeys(ctx, actor)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		stored, err = f.makeKeys(ctx, actor)
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	kp, err := parseKeys(stored)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	f.keys.Store(actor, kp)
	return kp, nil
}

func (f *Service) makeKeys(ctx context.Context, actor string) (*nineten.ActorKeys, error) {
	// 2048-bit RSA: what Mastodon and GoToSocial use and expect.
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	k := &nineten.ActorKeys{
		Actor:         actor,
		RSAPrivatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		Ed25519Seed:   seed,
		CreatedAt:     f.now(),
	}
	err = f.Store.CreateActorKeys(ctx, k)
	if nineten.ErrorKind(err) == nineten.KindConflict {
		return f.Store.ActorKeys(ctx, actor)
	}
	return k, err
}

func parseKeys(k *nineten.ActorKeys) (*Keypair, error) {
	block, _ := pem.Decode([]byte(k.RSAPrivatePEM))
	if block == nil {
		return nil, fmt.Errorf("the RSA key of %s is not PEM", k.Actor)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := parsed.(*rsa.PrivateKey)
	if !ok || len(k.Ed25519Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("the keys of %s are malformed", k.Actor)
	}
	return &Keypair{RSA: rk, Ed25519: ed25519.NewKeyFromSeed(k.Ed25519Seed)}, nil
}

// publicKeyPEM is the RSA public key as actor documents carry it.
func publicKeyPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// multikey encodes an Ed25519 public key as a FEP-521a / Multikey
// publicKeyMultibase: "z" + base58btc(0xed 0x01 ‖ key).
func multikey(pub ed25519.PublicKey) string {
	return "z" + base58(append([]byte{0xed, 0x01}, pub...))
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58 encodes b in the Bitcoin alphabet (base58btc).
func base58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// Repeated division of the big-endian number by 58, digits reversed.
	digits := make([]byte, 0, len(b)*138/100+1)
	num := append([]byte(nil), b[zeros:]...)
	for len(num) > 0 {
		var rem int
		var next []byte
		for _, d := range num {
			acc := rem*256 + int(d)
			q := acc / 58
			rem = acc % 58
			if len(next) > 0 || q > 0 {
				next = append(next, byte(q))
			}
		}
		digits = append(digits, base58Alphabet[rem])
		num = next
	}
	out := make([]byte, zeros, zeros+len(digits))
	for i := range out {
		out[i] = '1'
	}
	for i := len(digits) - 1; i >= 0; i-- {
		out = append(out, digits[i])
	}
	return string(out)
}
