package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"nineten.dev"
)

// Payment gateways' events and payouts: see nineten.GatewayStore and
// migrations/*/00011_gateway.sql.

const gatewayEventCols = `gateway, event_id, type, state, reference, amount, currency, user_id, payout_id, reason, received_at, updated_at`

func (s *store) SaveGatewayEvent(ctx context.Context, e nineten.GatewayEvent) error {
	const op = "sqlstore.SaveGatewayEvent"
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = nowUTC()
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = e.ReceivedAt
	}
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO gateway_events (`+gatewayEventCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (gateway, event_id) DO UPDATE SET type = excluded.type, state = excluded.state,
			reference = excluded.reference, amount = excluded.amount, currency = excluded.currency,
			user_id = excluded.user_id, payout_id = excluded.payout_id, reason = excluded.reason,
			updated_at = excluded.updated_at`,
		e.Gateway, e.ID, e.Type, string(e.State), e.Reference, int64(e.Amount), e.Currency,
		int64(e.UserID), int64(e.PayoutID), e.Error, ms(e.ReceivedAt), ms(e.UpdatedAt))
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func scanGatewayEvent(row scanner) (*nineten.GatewayEvent, error) {
	var e nineten.GatewayEvent
	var state string
	var amount, user, payout, received, updated int64
	err := row.Scan(&e.Gateway, &e.ID, &e.Type, &state, &e.Reference, &amount, &e.Currency, &user, &payout, &e.Error, &received, &updated)
	if err != nil {
		return nil, err
	}
	e.State, e.Amount, e.UserID, e.PayoutID = nineten.GatewayEventState(state), nineten.Micro(amount), nineten.ID(user), nineten.ID(payout)
	e.ReceivedAt, e.UpdatedAt = fromMS(received), fromMS(updated)
	return &e, nil
}

func (s *store) GatewayEvent(ctx context.Context, gateway, id string) (*nineten.GatewayEvent, error) {
	const op = "sqlstore.GatewayEvent"
	e, err := scanGatewayEvent(s.read.QueryRowContext(ctx,
		`SELECT `+gatewayEventCols+` FROM gateway_events WHERE gateway = ? AND event_id = ?`, gateway, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "event %q of gateway %s", id, gateway)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return e, nil
}

func (s *store) GatewayEvents(ctx context.Context, state nineten.GatewayEventState, p nineten.Page) ([]nineten.GatewayEvent, error) {
	const op = "sqlstore.GatewayEvents"
	var w where
	if state != "" {
		w.add("state = ?", string(state))
	}
	limit, offset := window(p)
	es, err := queryAll(ctx, s.read, scanGatewayEvent,
		`SELECT `+gatewayEventCols+` FROM gateway_events`+w.String()+` ORDER BY received_at DESC, gateway, event_id LIMIT ? OFFSET ?`,
		append(w.args, limit, offset)...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return es, nil
}

const gatewayPayoutCols = `id, gateway, artist, destination, amount, cents, currency, reference, state, payout_id, ext_id, reason, created_at, updated_at`

func (s *store) CreateGatewayPayout(ctx context.Context, p *nineten.GatewayPayout) error {
	const op = "sqlstore.CreateGatewayPayout"
	if p.CreatedAt.IsZero() {
		p.CreatedAt = nowUTC()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	const underWay = "the artist has a payout under way (through a gateway or on a chain), or the reference is taken"
	// The guard against a chain payout under way and the insert are one
	// statement, so a chain payout started meanwhile cannot slip between
	// them; the unique indexes cover gateway payouts and references. The
	// casts type the parameters for PostgreSQL, which cannot infer them in
	// a SELECT list.
	var id int64
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO gateway_payouts (gateway, artist, destination, amount, cents, currency, reference, state,
			payout_id, ext_id, reason, created_at, updated_at)
		SELECT ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT)
		WHERE NOT EXISTS (SELECT 1 FROM chain_payouts WHERE artist = ? AND state IN ('pending', 'sent'))
		ON CONFLICT DO NOTHING RETURNING id`,
		p.Gateway, p.Artist, p.Destination, int64(p.Amount), p.Cents, p.Currency, p.Reference, string(p.State),
		p.PayoutID, p.ExtID, p.Error, ms(p.CreatedAt), ms(p.UpdatedAt), p.Artist,
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

func (s *store) UpdateGatewayPayout(ctx context.Context, p *nineten.GatewayPayout, from nineten.GatewayPayoutState) error {
	const op = "sqlstore.UpdateGatewayPayout"
	// The guards keep the unique rules without a failed statement (which
	// would abort a PostgreSQL transaction): one payout under way per
	// artist, one of ours per payout of the gateway.
	res, err := s.write.ExecContext(ctx, `
		UPDATE gateway_payouts SET state = ?, payout_id = ?, ext_id = ?, reason = ?, updated_at = ?
		WHERE id = ? AND state = ?
		  AND (? NOT IN ('pending', 'sent') OR NOT EXISTS (
			SELECT 1 FROM gateway_payouts o WHERE o.artist = gateway_payouts.artist
			  AND o.id <> gateway_payouts.id AND o.state IN ('pending', 'sent')))
		  AND (? = '' OR NOT EXISTS (
			SELECT 1 FROM gateway_payouts o WHERE o.gateway = gateway_payouts.gateway AND o.payout_id = ?
			  AND o.id <> gateway_payouts.id))`,
		string(p.State), p.PayoutID, p.ExtID, p.Error, ms(p.UpdatedAt),
		int64(p.ID), string(from), string(p.State), p.PayoutID, p.PayoutID)
	if err != nil {
		return dbError(op, err, "")
	}
	return s.updatedOrTaken(ctx, op, res, "gateway_payouts", p.ID, "gateway payout "+itoa(p.ID),
		"gateway payout "+itoa(p.ID)+" is no longer "+string(from)+" (another process moved it), or the gateway's payout "+p.PayoutID+" pays another one")
}

func scanGatewayPayout(row scanner) (*nineten.GatewayPayout, error) {
	var p nineten.GatewayPayout
	var id, amount, created, updated int64
	var state string
	err := row.Scan(&id, &p.Gateway, &p.Artist, &p.Destination, &amount, &p.Cents, &p.Currency, &p.Reference, &state,
		&p.PayoutID, &p.ExtID, &p.Error, &created, &updated)
	if err != nil {
		return nil, err
	}
	p.ID, p.Amount, p.State = nineten.ID(id), nineten.Micro(amount), nineten.GatewayPayoutState(state)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

func (s *store) GatewayPayoutByID(ctx context.Context, id nineten.ID) (*nineten.GatewayPayout, error) {
	const op = "sqlstore.GatewayPayoutByID"
	p, err := scanGatewayPayout(s.read.QueryRowContext(ctx, `SELECT `+gatewayPayoutCols+` FROM gateway_payouts WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "gateway payout %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return p, nil
}

func (s *store) GatewayPayoutByRef(ctx context.Context, gateway, reference, payoutID string) (*nineten.GatewayPayout, error) {
	const op = "sqlstore.GatewayPayoutByRef"
	// The reference wins: it is ours, and known before the gateway's id.
	p, err := scanGatewayPayout(s.read.QueryRowContext(ctx, `
		SELECT `+gatewayPayoutCols+` FROM gateway_payouts
		WHERE gateway = ? AND ((reference = ? AND reference <> '') OR (payout_id = ? AND payout_id <> ''))
		ORDER BY CASE WHEN reference = ? THEN 0 ELSE 1 END LIMIT 1`,
		gateway, reference, payoutID, reference))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "a payout of %s with reference %q or payout id %q", gateway, reference, payoutID)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return p, nil
}

func (s *store) GatewayPayouts(ctx context.Context, f nineten.GatewayPayoutFilter) ([]nineten.GatewayPayout, error) {
	const op = "sqlstore.GatewayPayouts"
	var w where
	if f.Gateway != "" {
		w.add("gateway = ?", f.Gateway)
	}
	if f.Artist != "" {
		w.add("artist = ?", f.Artist)
	}
	whereIn(&w, "state", f.States)
	ps, err := queryAll(ctx, s.read, scanGatewayPayout, `SELECT `+gatewayPayoutCols+` FROM gateway_payouts`+w.String()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return ps, nil
}
