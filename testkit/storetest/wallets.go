package storetest

import (
	"bytes"
	"time"

	nineten "nineten.dev"
)

// walletTests pin down nineten.WalletStore: wallets, their challenges, the
// chain watcher's cursor and deposits, and payouts.
var walletTests = []test{
	{"WalletChallengesAreUsedOnce", func(e *env) {
		u := e.user("signer")
		c := nineten.WalletChallenge{Nonce: "n1", UserID: u.ID, Address: "0xabc", Message: "sign me\nplease", CreatedAt: at(0), ExpiresAt: at(10 * time.Minute)}
		e.ok(e.s.CreateWalletChallenge(e.ctx, c))
		e.wantKind(e.s.CreateWalletChallenge(e.ctx, c), nineten.KindConflict)
		got, err := e.s.ConsumeWalletChallenge(e.ctx, "n1")
		e.ok(err)
		e.same("challenge", &c, got)
		_, err = e.s.ConsumeWalletChallenge(e.ctx, "n1")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.ConsumeWalletChallenge(e.ctx, "never")
		e.wantKind(err, nineten.KindNotFound)

		// Expired challenges go; a challenge expiring at t stays at t.
		old := nineten.WalletChallenge{Nonce: "old", UserID: u.ID, Address: "0xabc", Message: "m", CreatedAt: at(0), ExpiresAt: at(time.Minute)}
		fresh := nineten.WalletChallenge{Nonce: "fresh", UserID: u.ID, Address: "0xabc", Message: "m", CreatedAt: at(0), ExpiresAt: at(2 * time.Minute)}
		e.ok(e.s.CreateWalletChallenge(e.ctx, old))
		e.ok(e.s.CreateWalletChallenge(e.ctx, fresh))
		e.ok(e.s.DeleteExpiredWalletChallenges(e.ctx, at(2*time.Minute)))
		_, err = e.s.ConsumeWalletChallenge(e.ctx, "old")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.ConsumeWalletChallenge(e.ctx, "fresh")
		e.ok(err)
	}},
	{"WalletBelongsToOneUser", func(e *env) {
		ann, bob := e.user("ann"), e.user("bob")
		_, err := e.s.WalletByAddress(e.ctx, "0x01")
		e.wantKind(err, nineten.KindNotFound)
		w1 := nineten.Wallet{Address: "0x01", UserID: ann.ID, CreatedAt: at(time.Second)}
		w2 := nineten.Wallet{Address: "0x02", UserID: ann.ID, CreatedAt: at(0)}
		e.ok(e.s.RegisterWallet(e.ctx, w1))
		e.ok(e.s.RegisterWallet(e.ctx, w2))
		e.wantKind(e.s.RegisterWallet(e.ctx, nineten.Wallet{Address: "0x01", UserID: bob.ID, CreatedAt: at(0)}), nineten.KindConflict)
		e.wantKind(e.s.RegisterWallet(e.ctx, w1), nineten.KindConflict)
		got, err := e.s.WalletByAddress(e.ctx, "0x01")
		e.ok(err)
		e.same("wallet", &w1, got)
		ws, err := e.s.WalletsOf(e.ctx, ann.ID)
		e.ok(err)
		e.same("ann's wallets, oldest first", []nineten.Wallet{w2, w1}, ws)
		ws, err = e.s.WalletsOf(e.ctx, bob.ID)
		e.ok(err)
		e.same("bob's wallets", []nineten.Wallet(nil), ws)

		e.wantKind(e.s.DeleteWallet(e.ctx, bob.ID, "0x01"), nineten.KindNotFound)
		e.ok(e.s.DeleteWallet(e.ctx, ann.ID, "0x01"))
		_, err = e.s.WalletByAddress(e.ctx, "0x01")
		e.wantKind(err, nineten.KindNotFound)
		// Removed, the address can be registered again, by anyone.
		e.ok(e.s.RegisterWallet(e.ctx, nineten.Wallet{Address: "0x01", UserID: bob.ID, CreatedAt: at(time.Minute)}))
	}},
	{"ChainCursorIsPerChain", func(e *env) {
		_, err := e.s.ChainCursor(e.ctx, "eip155:1/0xt")
		e.wantKind(err, nineten.KindNotFound)
		c := nineten.ChainCursor{Chain: "eip155:1/0xt", Block: 19_000_000, Hash: "0xaa", UpdatedAt: at(0)}
		e.ok(e.s.SetChainCursor(e.ctx, c))
		e.ok(e.s.SetChainCursor(e.ctx, nineten.ChainCursor{Chain: "eip155:5/0xt", Block: 3, Hash: "0xbb", UpdatedAt: at(0)}))
		got, err := e.s.ChainCursor(e.ctx, c.Chain)
		e.ok(err)
		e.same("cursor", &c, got)
		c.Block, c.Hash, c.UpdatedAt = 19_000_100, "0xcc", at(time.Minute)
		e.ok(e.s.SetChainCursor(e.ctx, c))
		got, err = e.s.ChainCursor(e.ctx, c.Chain)
		e.ok(err)
		e.same("moved cursor", &c, got)
	}},
	{"ChainDepositsAreKeptByExternalID", func(e *env) {
		const chain = "eip155:1/0xt"
		dep := func(ext string, block, index int64, state nineten.ChainDepositState) nineten.ChainDeposit {
			return nineten.ChainDeposit{
				ExtID: ext, Chain: chain, TxHash: "0x" + ext, LogIndex: index, Block: block, BlockHash: "0xb",
				From: "0xf", To: "0xd",
				Units:  "123456789012345678901234567", // beyond 64 bits
				Amount: 123_456_789_012_345, Remainder: "678901234567", State: state, SeenAt: at(0),
			}
		}
		_, err := e.s.ChainDepositByExtID(e.ctx, "usdp:x:0")
		e.wantKind(err, nineten.KindNotFound)
		a := dep("usdp:a:3", 10, 3, nineten.DepositUnclaimed)
		b := dep("usdp:b:1", 10, 1, nineten.DepositCredited)
		b.UserID, b.CreditedAt = 42, at(time.Minute)
		c := dep("usdp:c:0", 9, 0, nineten.DepositDust)
		other := dep("usdp:d:0", 1, 0, nineten.DepositUnclaimed)
		other.Chain = "eip155:5/0xt"
		for _, d := range []nineten.ChainDeposit{a, b, c, other} {
			e.ok(e.s.SaveChainDeposit(e.ctx, d))
		}
		got, err := e.s.ChainDepositByExtID(e.ctx, b.ExtID)
		e.ok(err)
		e.same("deposit", &b, got)
		all, err := e.s.ChainDeposits(e.ctx, chain, "", nineten.Page{})
		e.ok(err)
		e.same("the chain's deposits, by block and log", []nineten.ChainDeposit{c, b, a}, all)
		page, err := e.s.ChainDeposits(e.ctx, chain, "", nineten.Page{Limit: 1, Offset: 1})
		e.ok(err)
		e.same("second page of one", []nineten.ChainDeposit{b}, page)
		un, err := e.s.ChainDeposits(e.ctx, chain, nineten.DepositUnclaimed, nineten.Page{})
		e.ok(err)
		e.same("unclaimed", []nineten.ChainDeposit{a}, un)

		// Saving again replaces: an unclaimed deposit is credited.
		a.State, a.UserID, a.CreditedAt = nineten.DepositCredited, 7, at(time.Hour)
		e.ok(e.s.SaveChainDeposit(e.ctx, a))
		un, err = e.s.ChainDeposits(e.ctx, chain, nineten.DepositUnclaimed, nineten.Page{})
		e.ok(err)
		e.same("unclaimed after the credit", []nineten.ChainDeposit(nil), un)
		got, err = e.s.ChainDepositByExtID(e.ctx, a.ExtID)
		e.ok(err)
		e.same("credited deposit", &a, got)
	}},
	{"PayoutsMoveOneStateAtATime", func(e *env) {
		const chain = "eip155:1/0xt"
		p := &nineten.ChainPayout{
			Chain: chain, Artist: "music.test/7", To: "0xa1", Amount: 9_000_000, Units: "9000000000000000000",
			State: nineten.PayoutPending, From: "0xp", Nonce: -1, CreatedAt: at(0), UpdatedAt: at(0),
		}
		e.ok(e.s.CreatePayout(e.ctx, p))
		if p.ID == 0 {
			e.Fatal("CreatePayout set no ID")
		}
		last, err := e.s.LastPayoutNonce(e.ctx, chain, "0xp")
		e.ok(err)
		if last != -1 {
			e.Fatalf("LastPayoutNonce before any signature = %d, want -1", last)
		}
		// One payout under way per artist and chain.
		again := *p
		e.wantKind(e.s.CreatePayout(e.ctx, &again), nineten.KindConflict)
		elsewhere := *p
		elsewhere.Chain = "eip155:5/0xt"
		e.ok(e.s.CreatePayout(e.ctx, &elsewhere))
		q := &nineten.ChainPayout{Chain: chain, Artist: "music.test/8", To: "0xa2", Amount: 1, Units: "1000000000000", State: nineten.PayoutPending, From: "0xp", Nonce: -1, CreatedAt: at(time.Second), UpdatedAt: at(time.Second)}
		e.ok(e.s.CreatePayout(e.ctx, q))

		sent := *p
		sent.State, sent.Nonce, sent.TxHash, sent.RawTx, sent.UpdatedAt = nineten.PayoutSent, 4, "0xtx", []byte{2, 0xf8, 0}, at(time.Minute)
		e.wantKind(e.s.UpdatePayout(e.ctx, &sent, nineten.PayoutSent), nineten.KindConflict)
		e.ok(e.s.UpdatePayout(e.ctx, &sent, nineten.PayoutPending))
		e.wantKind(e.s.UpdatePayout(e.ctx, &sent, nineten.PayoutPending), nineten.KindConflict)
		got, err := e.s.PayoutByID(e.ctx, p.ID)
		e.ok(err)
		e.same("sent payout", &sent, got)
		if !bytes.Equal(got.RawTx, []byte{2, 0xf8, 0}) {
			e.Fatalf("raw transaction read back as %x", got.RawTx)
		}
		last, err = e.s.LastPayoutNonce(e.ctx, chain, "0xp")
		e.ok(err)
		if last != 4 {
			e.Fatalf("LastPayoutNonce = %d, want 4", last)
		}
		// A nonce pays one payout.
		q2 := *q
		q2.State, q2.Nonce, q2.TxHash = nineten.PayoutSent, 4, "0xother"
		e.wantKind(e.s.UpdatePayout(e.ctx, &q2, nineten.PayoutPending), nineten.KindConflict)
		q2.Nonce = 5
		e.ok(e.s.UpdatePayout(e.ctx, &q2, nineten.PayoutPending))

		open, err := e.s.Payouts(e.ctx, nineten.PayoutFilter{Chain: chain, States: []nineten.ChainPayoutState{nineten.PayoutPending, nineten.PayoutSent}})
		e.ok(err)
		if len(open) != 2 || open[0].ID != p.ID || open[1].ID != q.ID {
			e.Fatalf("open payouts %+v", open)
		}
		done := sent
		done.State, done.ExtID, done.Block, done.UpdatedAt = nineten.PayoutConfirmed, "usdp:0xtx:0", 123, at(time.Hour)
		e.ok(e.s.UpdatePayout(e.ctx, &done, nineten.PayoutSent))
		mine, err := e.s.Payouts(e.ctx, nineten.PayoutFilter{Artist: "music.test/7"})
		e.ok(err)
		e.same("the artist's payouts on both chains", []nineten.ChainPayout{done, elsewhere}, mine)
		// Confirmed, the artist can be paid again.
		next := *p
		next.ID = 0
		e.ok(e.s.CreatePayout(e.ctx, &next))

		_, err = e.s.PayoutByID(e.ctx, 9999)
		e.wantKind(err, nineten.KindNotFound)
		missing := sent
		missing.ID = 9999
		e.wantKind(e.s.UpdatePayout(e.ctx, &missing, nineten.PayoutPending), nineten.KindNotFound)
	}},
}
