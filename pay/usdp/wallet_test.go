package usdp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	nineten "nineten.dev"
	"nineten.dev/pay/usdp"
)

func TestWalletRegistration(t *testing.T) {
	e := newEnv(t, 18)
	ctx := e.ctx
	a := address(e.alice)

	c, err := e.registry.Challenge(ctx, alice, a.Hex())
	if err != nil {
		t.Fatal(err)
	}
	// The message names the node, the user, the wallet, the chain, the
	// nonce and the expiry: the signature is good for nothing else.
	for _, want := range []string{"music.test wants you to sign in", a.Hex(), "user 1 of music.test", "Chain ID: 1337", "Nonce: " + c.Nonce, "Expiration Time: 2026-10-03T12:10:00Z"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("the challenge lacks %q:\n%s", want, c.Message)
		}
	}
	sig := personalSign(t, e.alice, c.Message)
	w, err := e.registry.Register(ctx, alice, c.Nonce, sig)
	if err != nil {
		t.Fatal(err)
	}
	if w.UserID != alice || w.Address != strings.ToLower(a.Hex()) {
		t.Fatalf("registered %+v", w)
	}
	if got, err := e.store.WalletByAddress(ctx, w.Address); err != nil || got.UserID != alice {
		t.Fatalf("lookup: %+v, %v", got, err)
	}

	t.Run("replayed", func(t *testing.T) {
		_, err := e.registry.Register(ctx, alice, c.Nonce, sig)
		if nineten.ErrorKind(err) != nineten.KindInvalid || !strings.Contains(nineten.ErrorMessage(err), "ask for a new one") {
			t.Fatalf("the same answer again: %v, want refused", err)
		}
	})

	t.Run("forged", func(t *testing.T) {
		c, err := e.registry.Challenge(ctx, bob, address(e.bob).Hex())
		if err != nil {
			t.Fatal(err)
		}
		// Signed by another key than the wallet's.
		_, err = e.registry.Register(ctx, bob, c.Nonce, personalSign(t, e.stranger, c.Message))
		if nineten.ErrorKind(err) != nineten.KindPermission {
			t.Fatalf("forged signature: %v, want permission denied", err)
		}
		// The wallet's key, but another message.
		c, _ = e.registry.Challenge(ctx, bob, address(e.bob).Hex())
		_, err = e.registry.Register(ctx, bob, c.Nonce, personalSign(t, e.bob, strings.Replace(c.Message, "user 2", "user 3", 1)))
		if nineten.ErrorKind(err) != nineten.KindPermission {
			t.Fatalf("signature of another message: %v, want permission denied", err)
		}
		// Garbage.
		c, _ = e.registry.Challenge(ctx, bob, address(e.bob).Hex())
		if _, err = e.registry.Register(ctx, bob, c.Nonce, "0x1234"); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Fatalf("a short signature: %v, want invalid", err)
		}
		if _, err := e.store.WalletByAddress(ctx, strings.ToLower(address(e.bob).Hex())); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Fatalf("bob's wallet registered after forgeries: %v", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		c, err := e.registry.Challenge(ctx, bob, address(e.bob).Hex())
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(usdp.DefaultChallengeTTL)
		_, err = e.registry.Register(ctx, bob, c.Nonce, personalSign(t, e.bob, c.Message))
		if nineten.ErrorKind(err) != nineten.KindInvalid || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("answered at expiry: %v, want expired", err)
		}
	})

	t.Run("another user's challenge", func(t *testing.T) {
		c, err := e.registry.Challenge(ctx, bob, address(e.bob).Hex())
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.registry.Register(ctx, later, c.Nonce, personalSign(t, e.bob, c.Message))
		if nineten.ErrorKind(err) != nineten.KindPermission {
			t.Fatalf("user 3 answering user 2's challenge: %v, want permission denied", err)
		}
	})

	t.Run("address of another user", func(t *testing.T) {
		c, err := e.registry.Challenge(ctx, bob, a.Hex())
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.registry.Register(ctx, bob, c.Nonce, personalSign(t, e.alice, c.Message))
		if nineten.ErrorKind(err) != nineten.KindConflict {
			t.Fatalf("alice's wallet for bob: %v, want conflict", err)
		}
		if got, _ := e.store.WalletByAddress(ctx, strings.ToLower(a.Hex())); got.UserID != alice {
			t.Fatalf("the wallet moved to %d", got.UserID)
		}
	})

	t.Run("recovery id 0/1", func(t *testing.T) {
		c, err := e.registry.Challenge(ctx, bob, address(e.bob).Hex())
		if err != nil {
			t.Fatal(err)
		}
		raw := hexutil.MustDecode(personalSign(t, e.bob, c.Message))
		raw[64] -= 27
		if _, err := e.registry.Register(ctx, bob, c.Nonce, hexutil.Encode(raw)); err != nil {
			t.Fatal(err)
		}
		ws, err := e.store.WalletsOf(ctx, bob)
		if err != nil || len(ws) != 1 || ws[0].Address != strings.ToLower(address(e.bob).Hex()) {
			t.Fatalf("bob's wallets %+v, %v", ws, err)
		}
	})
}

func TestVerifyRegistrationIsPure(t *testing.T) {
	k := newKey(t)
	now := time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC)
	msg := usdp.ChallengeMessage("music.test", "https://music.test", 1, 7, address(k), "n0nce", now, now.Add(time.Minute))
	c := nineten.WalletChallenge{Nonce: "n0nce", UserID: 7, Address: strings.ToLower(address(k).Hex()), Message: msg, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	sig := hexutil.MustDecode(personalSign(t, k, msg))
	if err := usdp.VerifyRegistration(c, 7, sig, now.Add(59*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := usdp.VerifyRegistration(c, 7, sig, now.Add(time.Minute)); err == nil {
		t.Fatal("accepted at the expiry instant")
	}
	sig[10] ^= 1
	if err := usdp.VerifyRegistration(c, 7, sig, now); err == nil {
		t.Fatal("accepted a damaged signature")
	}
}

func TestParseAddress(t *testing.T) {
	for _, ok := range []string{"0x8E870D67F660D95d5be530380D0eC0bd388289E1", "0x8e870d67f660d95d5be530380d0ec0bd388289e1", "0x8E870D67F660D95D5BE530380D0EC0BD388289E1"} {
		if _, err := usdp.ParseAddress(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "8E870D67F660D95d5be530380D0eC0bd388289E1", "0x8E870D67F660D95d5be530380D0eC0bd388289E2x", "0x8e870D67F660D95d5be530380D0eC0bd388289E1"} {
		if _, err := usdp.ParseAddress(bad); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}
