package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"nineten.dev"
)

// Wallets and the chain's money: see nineten.WalletStore and
// migrations/*/00007_wallets.sql.

func (s *store) CreateWalletChallenge(ctx context.Context, c nineten.WalletChallenge) error {
	const op = "sqlstore.CreateWalletChallenge"
	res, err := s.write.ExecContext(ctx, `
		INSERT INTO wallet_challenges (nonce, user_id, address, message, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.Nonce, int64(c.UserID), c.Address, c.Message, ms(c.CreatedAt), ms(c.ExpiresAt))
	return inserted(op, res, err, "a challenge with this nonce exists")
}

func (s *store) ConsumeWalletChallenge(ctx context.Context, nonce string) (*nineten.WalletChallenge, error) {
	const op = "sqlstore.ConsumeWalletChallenge"
	// DELETE … RETURNING: of two callers, one deletes the row and gets it.
	c := nineten.WalletChallenge{}
	var user, created, expires int64
	err := s.write.QueryRowContext(ctx, `
		DELETE FROM wallet_challenges WHERE nonce = ?
		RETURNING nonce, user_id, address, message, created_at, expires_at`, nonce,
	).Scan(&c.Nonce, &user, &c.Address, &c.Message, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "the wallet challenge %q", nonce)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	c.UserID, c.CreatedAt, c.ExpiresAt = nineten.ID(user), fromMS(created), fromMS(expires)
	return &c, nil
}

func (s *store) DeleteExpiredWalletChallenges(ctx context.Context, t time.Time) error {
	const op = "sqlstore.DeleteExpiredWalletChallenges"
	if _, err := s.write.ExecContext(ctx, `DELETE FROM wallet_challenges WHERE expires_at < ?`, ms(t)); err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func (s *store) RegisterWallet(ctx context.Context, w nineten.Wallet) error {
	const op = "sqlstore.RegisterWallet"
	res, err := s.write.ExecContext(ctx, `
		INSERT INTO wallets (address, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		w.Address, int64(w.UserID), ms(w.CreatedAt))
	return inserted(op, res, err, "the wallet "+w.Address+" is registered already")
}

func scanWallet(row scanner) (*nineten.Wallet, error) {
	var w nineten.Wallet
	var user, created int64
	if err := row.Scan(&w.Address, &user, &created); err != nil {
		return nil, err
	}
	w.UserID, w.CreatedAt = nineten.ID(user), fromMS(created)
	return &w, nil
}

func (s *store) WalletByAddress(ctx context.Context, address string) (*nineten.Wallet, error) {
	const op = "sqlstore.WalletByAddress"
	w, err := scanWallet(s.read.QueryRowContext(ctx, `SELECT address, user_id, created_at FROM wallets WHERE address = ?`, address))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "a wallet %s", address)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return w, nil
}

func (s *store) WalletsOf(ctx context.Context, userID nineten.ID) ([]nineten.Wallet, error) {
	const op = "sqlstore.WalletsOf"
	ws, err := queryAll(ctx, s.read, scanWallet,
		`SELECT address, user_id, created_at FROM wallets WHERE user_id = ? ORDER BY created_at, address`, int64(userID))
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return ws, nil
}

func (s *store) DeleteWallet(ctx context.Context, userID nineten.ID, address string) error {
	const op = "sqlstore.DeleteWallet"
	res, err := s.write.ExecContext(ctx, `DELETE FROM wallets WHERE user_id = ? AND address = ?`, int64(userID), address)
	return mustAffect(op, res, err, "the user's wallet "+address)
}

func (s *store) ChainCursor(ctx context.Context, chain string) (*nineten.ChainCursor, error) {
	const op = "sqlstore.ChainCursor"
	c := nineten.ChainCursor{Chain: chain}
	var updated int64
	err := s.read.QueryRowContext(ctx, `SELECT block_number, block_hash, updated_at FROM chain_cursors WHERE chain = ?`, chain).
		Scan(&c.Block, &c.Hash, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "a cursor of %s", chain)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	c.UpdatedAt = fromMS(updated)
	return &c, nil
}

func (s *store) SetChainCursor(ctx context.Context, c nineten.ChainCursor) error {
	const op = "sqlstore.SetChainCursor"
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO chain_cursors (chain, block_number, block_hash, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (chain) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash, updated_at = excluded.updated_at`,
		c.Chain, c.Block, c.Hash, ms(c.UpdatedAt))
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

const depositCols = `ext_id, chain, tx_hash, log_index, block_number, block_hash, from_address, to_address,
	units, amount, remainder, state, user_id, seen_at, credited_at`

func (s *store) SaveChainDeposit(ctx context.Context, d nineten.ChainDeposit) error {
	const op = "sqlstore.SaveChainDeposit"
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO chain_deposits (`+depositCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (ext_id) DO UPDATE SET chain = excluded.chain, tx_hash = excluded.tx_hash,
			log_index = excluded.log_index, block_number = excluded.block_number, block_hash = excluded.block_hash,
			from_address = excluded.from_address, to_address = excluded.to_address, units = excluded.units,
			amount = excluded.amount, remainder = excluded.remainder, state = excluded.state,
			user_id = excluded.user_id, seen_at = excluded.seen_at, credited_at = excluded.credited_at`,
		d.ExtID, d.Chain, d.TxHash, d.LogIndex, d.Block, d.BlockHash, d.From, d.To,
		d.Units, int64(d.Amount), d.Remainder, string(d.State), int64(d.UserID), ms(d.SeenAt), ms(d.CreditedAt))
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func scanDeposit(row scanner) (*nineten.ChainDeposit, error) {
	var d nineten.ChainDeposit
	var amount, user, seen, credited int64
	var state string
	err := row.Scan(&d.ExtID, &d.Chain, &d.TxHash, &d.LogIndex, &d.Block, &d.BlockHash, &d.From, &d.To,
		&d.Units, &amount, &d.Remainder, &state, &user, &seen, &credited)
	if err != nil {
		return nil, err
	}
	d.Amount, d.State, d.UserID = nineten.Micro(amount), nineten.ChainDepositState(state), nineten.ID(user)
	d.SeenAt, d.CreditedAt = fromMS(seen), fromMS(credited)
	return &d, nil
}

func (s *store) ChainDepositByExtID(ctx context.Context, extID string) (*nineten.ChainDeposit, error) {
	const op = "sqlstore.ChainDepositByExtID"
	d, err := scanDeposit(s.read.QueryRowContext(ctx, `SELECT `+depositCols+` FROM chain_deposits WHERE ext_id = ?`, extID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "a deposit %s", extID)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return d, nil
}

func (s *store) ChainDeposits(ctx context.Context, chain string, state nineten.ChainDepositState, p nineten.Page) ([]nineten.ChainDeposit, error) {
	const op = "sqlstore.ChainDeposits"
	var w where
	w.add("chain = ?", chain)
	if state != "" {
		w.add("state = ?", string(state))
	}
	limit, offset := window(p)
	ds, err := queryAll(ctx, s.read, scanDeposit,
		`SELECT `+depositCols+` FROM chain_deposits`+w.String()+` ORDER BY block_number, log_index, ext_id LIMIT ? OFFSET ?`,
		append(w.args, limit, offset)...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return ds, nil
}

const payoutCols = `id, chain, artist, to_address, amount, units, state, from_address, nonce, tx_hash, raw_tx,
	ext_id, reason, block_number, created_at, updated_at`

func (s *store) CreatePayout(ctx context.Context, p *nineten.ChainPayout) error {
	const op = "sqlstore.CreatePayout"
	if p.CreatedAt.IsZero() {
		p.CreatedAt = nowUTC()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	const underWay = "the artist has a payout under way on this chain, or the nonce pays another payout"
	var id int64
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO chain_payouts (chain, artist, to_address, amount, units, state, from_address, nonce, tx_hash, raw_tx,
			ext_id, reason, block_number, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		p.Chain, p.Artist, p.To, int64(p.Amount), p.Units, string(p.State), p.From, p.Nonce, p.TxHash, p.RawTx,
		p.ExtID, p.Error, p.Block, ms(p.CreatedAt), ms(p.UpdatedAt),
	).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.E(op, nineten.KindConflict, underWay)
	}
	if err != nil {
		return dbError(op, err, underWay)
	}
	p.ID = nineten.ID(id)
	return nil
}

func (s *store) UpdatePayout(ctx context.Context, p *nineten.ChainPayout, from nineten.ChainPayoutState) error {
	const op = "sqlstore.UpdatePayout"
	// The guards keep both unique rules without a failed statement (which
	// would abort a PostgreSQL transaction): one payout under way per
	// artist, one payout per nonce.
	res, err := s.write.ExecContext(ctx, `
		UPDATE chain_payouts SET state = ?, nonce = ?, tx_hash = ?, raw_tx = ?, ext_id = ?, reason = ?,
			block_number = ?, updated_at = ?
		WHERE id = ? AND state = ?
		  AND (? NOT IN ('pending', 'sent') OR NOT EXISTS (
			SELECT 1 FROM chain_payouts o WHERE o.chain = chain_payouts.chain AND o.artist = chain_payouts.artist
			  AND o.id <> chain_payouts.id AND o.state IN ('pending', 'sent')))
		  AND (? < 0 OR NOT EXISTS (
			SELECT 1 FROM chain_payouts o WHERE o.chain = chain_payouts.chain AND o.from_address = chain_payouts.from_address
			  AND o.nonce = ? AND o.id <> chain_payouts.id))`,
		string(p.State), p.Nonce, p.TxHash, p.RawTx, p.ExtID, p.Error, p.Block, ms(p.UpdatedAt),
		int64(p.ID), string(from), string(p.State), p.Nonce, p.Nonce)
	if err != nil {
		return dbError(op, err, "")
	}
	return s.updatedOrTaken(ctx, op, res, "chain_payouts", p.ID, "payout "+itoa(p.ID),
		"payout "+itoa(p.ID)+" is no longer "+string(from)+" (another process moved it), or its nonce pays another payout")
}

func itoa(id nineten.ID) string { return strconv.FormatInt(int64(id), 10) }

func scanPayout(row scanner) (*nineten.ChainPayout, error) {
	var p nineten.ChainPayout
	var id, amount, created, updated int64
	var state string
	err := row.Scan(&id, &p.Chain, &p.Artist, &p.To, &amount, &p.Units, &state, &p.From, &p.Nonce, &p.TxHash, &p.RawTx,
		&p.ExtID, &p.Error, &p.Block, &created, &updated)
	if err != nil {
		return nil, err
	}
	p.ID, p.Amount, p.State = nineten.ID(id), nineten.Micro(amount), nineten.ChainPayoutState(state)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

func (s *store) PayoutByID(ctx context.Context, id nineten.ID) (*nineten.ChainPayout, error) {
	const op = "sqlstore.PayoutByID"
	p, err := scanPayout(s.read.QueryRowContext(ctx, `SELECT `+payoutCols+` FROM chain_payouts WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "payout %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return p, nil
}

func (s *store) Payouts(ctx context.Context, f nineten.PayoutFilter) ([]nineten.ChainPayout, error) {
	const op = "sqlstore.Payouts"
	var w where
	if f.Chain != "" {
		w.add("chain = ?", f.Chain)
	}
	if f.Artist != "" {
		w.add("artist = ?", f.Artist)
	}
	whereIn(&w, "state", f.States)
	ps, err := queryAll(ctx, s.read, scanPayout, `SELECT `+payoutCols+` FROM chain_payouts`+w.String()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return ps, nil
}

func (s *store) LastPayoutNonce(ctx context.Context, chain, from string) (int64, error) {
	const op = "sqlstore.LastPayoutNonce"
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(nonce), -1) FROM chain_payouts WHERE chain = ? AND from_address = ?`, chain, from).Scan(&n)
	if err != nil {
		return 0, dbError(op, err, "")
	}
	return n, nil
}
