package usdp_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	nineten "nineten.dev"
)

// memWallets keeps the wallet records in memory for these tests, with the
// semantics the WalletStore port documents, until sqlstore implements the
// port (it waits for the store's PostgreSQL port to land).
type memWallets struct {
	mu         sync.Mutex
	challenges map[string]nineten.WalletChallenge
	wallets    map[string]nineten.Wallet
	cursors    map[string]nineten.ChainCursor
	deposits   map[string]nineten.ChainDeposit
	payouts    []nineten.ChainPayout
}

var _ nineten.WalletStore = (*memWallets)(nil)

func newMemWallets() *memWallets {
	return &memWallets{
		challenges: map[string]nineten.WalletChallenge{}, wallets: map[string]nineten.Wallet{},
		cursors: map[string]nineten.ChainCursor{}, deposits: map[string]nineten.ChainDeposit{},
	}
}

func notFound(what string) error { return nineten.E("memWallets", nineten.KindNotFound, what) }
func conflict(what string) error { return nineten.E("memWallets", nineten.KindConflict, what) }

func (m *memWallets) CreateWalletChallenge(_ context.Context, c nineten.WalletChallenge) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.challenges[c.Nonce]; ok {
		return conflict("nonce taken")
	}
	m.challenges[c.Nonce] = c
	return nil
}

func (m *memWallets) ConsumeWalletChallenge(_ context.Context, nonce string) (*nineten.WalletChallenge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.challenges[nonce]
	if !ok {
		return nil, notFound("no challenge")
	}
	delete(m.challenges, nonce)
	return &c, nil
}

func (m *memWallets) DeleteExpiredWalletChallenges(_ context.Context, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, c := range m.challenges {
		if c.ExpiresAt.Before(t) {
			delete(m.challenges, k)
		}
	}
	return nil
}

func (m *memWallets) RegisterWallet(_ context.Context, w nineten.Wallet) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.wallets[w.Address]; ok {
		return conflict("address registered")
	}
	m.wallets[w.Address] = w
	return nil
}

func (m *memWallets) WalletByAddress(_ context.Context, a string) (*nineten.Wallet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.wallets[a]
	if !ok {
		return nil, notFound("no wallet")
	}
	return &w, nil
}

func (m *memWallets) WalletsOf(_ context.Context, user nineten.ID) ([]nineten.Wallet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []nineten.Wallet
	for _, w := range m.wallets {
		if w.UserID == user {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b nineten.Wallet) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (m *memWallets) DeleteWallet(_ context.Context, user nineten.ID, a string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.wallets[a]; !ok || w.UserID != user {
		return notFound("no wallet")
	}
	delete(m.wallets, a)
	return nil
}

func (m *memWallets) ChainCursor(_ context.Context, chain string) (*nineten.ChainCursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cursors[chain]
	if !ok {
		return nil, notFound("no cursor")
	}
	return &c, nil
}

func (m *memWallets) SetChainCursor(_ context.Context, c nineten.ChainCursor) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[c.Chain] = c
	return nil
}

func (m *memWallets) SaveChainDeposit(_ context.Context, d nineten.ChainDeposit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deposits[d.ExtID] = d
	return nil
}

func (m *memWallets) ChainDepositByExtID(_ context.Context, ext string) (*nineten.ChainDeposit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deposits[ext]
	if !ok {
		return nil, notFound("no deposit")
	}
	return &d, nil
}

func (m *memWallets) ChainDeposits(_ context.Context, chain string, state nineten.ChainDepositState, p nineten.Page) ([]nineten.ChainDeposit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []nineten.ChainDeposit
	for _, d := range m.deposits {
		if d.Chain == chain && (state == "" || d.State == state) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b nineten.ChainDeposit) int {
		return cmp.Or(cmp.Compare(a.Block, b.Block), cmp.Compare(a.LogIndex, b.LogIndex), cmp.Compare(a.ExtID, b.ExtID))
	})
	out = out[min(p.Offset, len(out)):]
	if p.Limit > 0 {
		out = out[:min(p.Limit, len(out))]
	}
	return out, nil
}

func open(s nineten.ChainPayoutState) bool {
	return s == nineten.PayoutPending || s == nineten.PayoutSent
}

func (m *memWallets) CreatePayout(_ context.Context, p *nineten.ChainPayout) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range m.payouts {
		if q.Chain == p.Chain && q.Artist == p.Artist && open(q.State) {
			return conflict("payout under way")
		}
	}
	p.ID = nineten.ID(len(m.payouts) + 1)
	m.payouts = append(m.payouts, clonePayout(*p))
	return nil
}

func clonePayout(p nineten.ChainPayout) nineten.ChainPayout {
	p.RawTx = slices.Clone(p.RawTx)
	return p
}

func (m *memWallets) UpdatePayout(_ context.Context, p *nineten.ChainPayout, from nineten.ChainPayoutState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := int(p.ID) - 1
	if i < 0 || i >= len(m.payouts) {
		return notFound("no payout")
	}
	if m.payouts[i].State != from {
		return conflict("payout moved")
	}
	m.payouts[i] = clonePayout(*p)
	return nil
}

func (m *memWallets) PayoutByID(_ context.Context, id nineten.ID) (*nineten.ChainPayout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := int(id) - 1
	if i < 0 || i >= len(m.payouts) {
		return nil, notFound("no payout")
	}
	p := clonePayout(m.payouts[i])
	return &p, nil
}

func (m *memWallets) Payouts(_ context.Context, f nineten.PayoutFilter) ([]nineten.ChainPayout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []nineten.ChainPayout
	for _, p := range m.payouts {
		if (f.Chain == "" || p.Chain == f.Chain) && (f.Artist == "" || p.Artist == f.Artist) && (len(f.States) == 0 || slices.Contains(f.States, p.State)) {
			out = append(out, clonePayout(p))
		}
	}
	return out, nil
}

func (m *memWallets) LastPayoutNonce(_ context.Context, chain, from string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := int64(-1)
	for _, p := range m.payouts {
		if p.Chain == chain && p.From == from {
			last = max(last, p.Nonce)
		}
	}
	return last, nil
}
