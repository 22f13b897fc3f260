package usdp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	nineten "nineten.dev"
)

// DefaultChallengeTTL is how long a wallet challenge can be answered: time
// to open a wallet and sign, not long enough to matter if it leaks.
const DefaultChallengeTTL = 10 * time.Minute

// Registrar lets users register their wallets. The user asks for a
// challenge for an address, signs it with that wallet (EIP-191
// personal_sign, as every browser wallet offers) and sends the signature
// back; the node recovers the signer and registers the address to the user.
// A challenge names the node, the user, the address and the chain, carries a
// single-use nonce and expires, so a signature cannot be replayed, reused on
// another node or for another user.
type Registrar struct {
	Store nineten.WalletStore
	Clock nineten.Clock
	// Domain is the node's host name and URI its address, as the user sees
	// them in their wallet (EIP-4361 Sign-In with Ethereum).
	Domain  string
	URI     string
	ChainID int64
	TTL     time.Duration // 0 means DefaultChallengeTTL
}

func (r *Registrar) now() time.Time {
	if r.Clock == nil {
		return time.Now().UTC()
	}
	return r.Clock.Now().UTC()
}

// ChallengeMessage is the text a user signs to register address: an
// EIP-4361 (Sign-In with Ethereum) message whose statement says what the
// signature does.
func ChallengeMessage(domain, uri string, chainID int64, user nineten.ID, address common.Address, nonce string, issued, expires time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s wants you to sign in with your Ethereum account:\n%s\n\n", domain, address.Hex())
	fmt.Fprintf(&b, "Register this wallet to user %d of %s: USDP sent from it will be credited to that user, and payouts may be sent to it.\n\n", user, domain)
	fmt.Fprintf(&b, "URI: %s\nVersion: 1\nChain ID: %d\nNonce: %s\n", uri, chainID, nonce)
	fmt.Fprintf(&b, "Issued At: %s\nExpiration Time: %s", issued.UTC().Format(time.RFC3339), expires.UTC().Format(time.RFC3339))
	return b.String()
}

// Challenge issues a challenge for user to sign with the wallet at address.
func (r *Registrar) Challenge(ctx context.Context, user nineten.ID, address string) (*nineten.WalletChallenge, error) {
	const op = "usdp.Registrar.Challenge"
	a, err := ParseAddress(address)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if user <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "a wallet is registered to a user")
	}
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, nineten.E(op, err)
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultChallengeTTL
	}
	now := r.now().Truncate(time.Second)
	c := nineten.WalletChallenge{
		Nonce: hex.EncodeToString(nb[:]), UserID: user, Address: addr(a),
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	c.Message = ChallengeMessage(r.Domain, r.URI, r.ChainID, user, a, c.Nonce, c.CreatedAt, c.ExpiresAt)
	// Old challenges go as new ones come: no separate sweeper needed.
	if err := r.Store.DeleteExpiredWalletChallenges(ctx, now); err != nil {
		return nil, nineten.E(op, err)
	}
	if err := r.Store.CreateWalletChallenge(ctx, c); err != nil {
		return nil, nineten.E(op, err)
	}
	return &c, nil
}

// Register answers the challenge named by nonce with signature (65 bytes
// r‖s‖v in hex, v 27/28 or 0/1, as wallets return it) on behalf of user,
// and registers the wallet. The challenge is used up whatever the outcome:
// one signature attempt per challenge.
func (r *Registrar) Register(ctx context.Context, user nineten.ID, nonce, signature string) (*nineten.Wallet, error) {
	const op = "usdp.Registrar.Register"
	c, err := r.Store.ConsumeWalletChallenge(ctx, nonce)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, nineten.E(op, nineten.KindInvalid, "this challenge was never issued or was used already; ask for a new one", err)
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	sig, err := hexutil.Decode(strings.TrimSpace(signature))
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the signature is not 0x-prefixed hex", err)
	}
	if err := VerifyRegistration(*c, user, sig, r.now()); err != nil {
		return nil, nineten.E(op, err)
	}
	w := nineten.Wallet{Address: c.Address, UserID: user, CreatedAt: r.now()}
	switch prev, err := r.Store.WalletByAddress(ctx, c.Address); {
	case err == nil && prev.UserID == user:
		return prev, nil // registered before: proving it again changes nothing
	case err == nil:
		return nil, nineten.E(op, nineten.KindConflict, "this wallet is registered to another account; it must be removed there first")
	case nineten.ErrorKind(err) != nineten.KindNotFound:
		return nil, nineten.E(op, err)
	}
	if err := r.Store.RegisterWallet(ctx, w); err != nil {
		if nineten.ErrorKind(err) == nineten.KindConflict {
			return nil, nineten.E(op, nineten.KindConflict, "this wallet is registered to another account; it must be removed there first", err)
		}
		return nil, nineten.E(op, err)
	}
	return &w, nil
}

// VerifyRegistration checks that sig answers challenge c for user at now:
// the challenge is the user's, has not expired, and sig is an EIP-191
// personal_sign signature of its message by the challenged address.
func VerifyRegistration(c nineten.WalletChallenge, user nineten.ID, sig []byte, now time.Time) error {
	const op = "usdp.VerifyRegistration"
	if c.UserID != user {
		return nineten.E(op, nineten.KindPermission, "this challenge was issued to another user")
	}
	if !now.Before(c.ExpiresAt) {
		return nineten.E(op, nineten.KindInvalid, "this challenge expired at "+c.ExpiresAt.UTC().Format(time.RFC3339)+"; ask for a new one and sign it within "+c.ExpiresAt.Sub(c.CreatedAt).String())
	}
	signer, err := RecoverSigner(c.Message, sig)
	if err != nil {
		return nineten.E(op, err)
	}
	if addr(signer) != strings.ToLower(c.Address) {
		return nineten.E(op, nineten.KindPermission, "the message was signed by "+signer.Hex()+", not by the wallet being registered; sign with that wallet")
	}
	return nil
}

// RecoverSigner returns the address whose key made sig, an EIP-191
// personal_sign signature of message.
func RecoverSigner(message string, sig []byte) (common.Address, error) {
	const op = "usdp.RecoverSigner"
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, nineten.E(op, nineten.KindInvalid, "a wallet signature is 65 bytes, not "+strconv.Itoa(len(sig)))
	}
	s := make([]byte, len(sig))
	copy(s, sig)
	// Wallets write the recovery id as 27/28 (Bitcoin's convention), the
	// recovery as 0/1.
	if s[64] >= 27 {
		s[64] -= 27
	}
	if s[64] > 1 {
		return common.Address{}, nineten.E(op, nineten.KindInvalid, "the signature's recovery id is not 27 or 28")
	}
	pub, err := crypto.SigToPub(accounts.TextHash([]byte(message)), s)
	if err != nil {
		return common.Address{}, nineten.E(op, nineten.KindInvalid, "the signature does not verify", err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}
