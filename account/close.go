package account

import (
	"context"
	"regexp"
	"strconv"

	nineten "nineten.dev"
)

// Closing an account. Money and data part ways here: the ledger is
// append-only and names accounts by number only (pseudonymous), so every
// entry stays; what names the person (display name, password, sessions,
// tokens, wallets, playlists, comments, reactions, follows, profile text)
// is erased at once. Rows with ids stay, so that an id (a ledger
// account) never passes to someone else and the username and artist slugs
// (fediverse addresses) answer 410 Gone instead of being taken over.
//
// What the money does:
//   - the subscription is cancelled: it does not renew, and the $9 of this
//     month, in the pool since the 1st, still goes at the month's
//     settlement to the artists the listener heard (their listens stay,
//     under the account's number, until that month is settled);
//   - a listener's balance and an artist's earnings stay on their ledger
//     accounts (earnings still grow by what this month's listeners pay);
//     an admin pays them out on request (PayOutClosed), recorded as a
//     payout with its external reference, so money is never destroyed;
//   - a closed artist's tracks are hidden at once (and their media
//     dropped), their rows kept until the month settles, then deleted with
//     the listens' link to the listener (PurgeClosed).

// CloseOwn closes u's own account; u confirms it with the password.
// Admins have another admin close theirs, so a node is never left without.
func (s *Service) CloseOwn(ctx context.Context, u *nineten.User, password string) error {
	const op = "account.CloseOwn"
	if u == nil {
		return nineten.E(op, nineten.KindUnauthenticated, "log in first")
	}
	cur, err := s.Store.UserByID(ctx, u.ID)
	if err != nil {
		return nineten.E(op, err)
	}
	if !CheckPassword(cur.PasswordHash, password) {
		return nineten.E(op, nineten.KindUnauthenticated, "the password is not right; give your password to confirm that you close your account")
	}
	if cur.Role == nineten.RoleAdmin {
		return nineten.E(op, nineten.KindInvalid, "an admin account is closed by another admin (so the node keeps one); ask one, or give the role up first")
	}
	return s.close(ctx, op, cur)
}

// CloseAccount closes another's account; admins only, never their own.
func (s *Service) CloseAccount(ctx context.Context, admin *nineten.User, id nineten.ID) error {
	const op = "account.CloseAccount"
	if admin == nil || admin.Role != nineten.RoleAdmin {
		return nineten.E(op, nineten.KindPermission, "only admins close others' accounts")
	}
	if admin.ID == id {
		return nineten.E(op, nineten.KindInvalid, "admins cannot close their own account; ask another admin")
	}
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return nineten.E(op, err)
	}
	return s.close(ctx, op, u)
}

func (s *Service) close(ctx context.Context, op string, u *nineten.User) error {
	if u.Deleted() {
		return nineten.E(op, nineten.KindNotFound, "account "+u.Username+" is closed already")
	}
	c, err := s.published(ctx, u)
	if err != nil {
		return nineten.E(op, err)
	}
	if s.Ledger != nil {
		// First: if the ledger cannot be reached, nothing else happens.
		if _, err := s.Ledger.Cancel(ctx, strconv.FormatInt(int64(u.ID), 10)); err != nil && nineten.ErrorKind(err) != nineten.KindNotFound {
			return nineten.E(op, "the subscription could not be cancelled; nothing was closed", err)
		}
	}
	if s.Closing != nil {
		s.Closing(ctx, c)
	}
	if err := s.Store.CloseAccount(ctx, u.ID, s.now()); err != nil {
		return nineten.E(op, err)
	}
	if s.Closed != nil {
		s.Closed(ctx, c)
	}
	return nil
}

// published gathers what u published, to be withdrawn.
func (s *Service) published(ctx context.Context, u *nineten.User) (*nineten.ClosedAccount, error) {
	c := &nineten.ClosedAccount{User: *u}
	var err error
	if c.Artists, err = s.Store.ArtistsByOwner(ctx, u.ID); err != nil {
		return nil, err
	}
	for _, a := range c.Artists {
		if err := eachPage(func(p nineten.Page) (int, error) {
			ts, _, err := s.Store.ListTracks(ctx, nineten.TrackFilter{ArtistID: a.ID}, p)
			c.Tracks = append(c.Tracks, ts...)
			return len(ts), err
		}); err != nil {
			return nil, err
		}
		if err := eachPage(func(p nineten.Page) (int, error) {
			as, _, err := s.Store.ListAlbums(ctx, a.ID, p)
			c.Albums = append(c.Albums, as...)
			return len(as), err
		}); err != nil {
			return nil, err
		}
	}
	err = eachPage(func(p nineten.Page) (int, error) {
		ps, _, err := s.Store.ListPlaylists(ctx, nineten.PlaylistFilter{OwnerID: u.ID, PublicOnly: true}, p)
		c.Playlists = append(c.Playlists, ps...)
		return len(ps), err
	})
	return c, err
}

// eachPage calls list with successive pages until one comes back short.
func eachPage(list func(nineten.Page) (int, error)) error {
	for p := (nineten.Page{Limit: 200}); ; p.Offset += p.Limit {
		n, err := list(p)
		if err != nil || n < p.Limit {
			return err
		}
	}
}

// PurgeClosed finishes the closures made before the end of period, a
// month just settled: no money depends on their listening any more.
func (s *Service) PurgeClosed(ctx context.Context, period nineten.Period) (int, error) {
	start, err := period.Next().Start()
	if err != nil {
		return 0, nineten.E("account.PurgeClosed", err)
	}
	n, err := s.Store.PurgeClosedAccounts(ctx, start)
	return n, wrap("account.PurgeClosed", err)
}

// PayOutClosed records that an admin paid a closed account's money out of
// the node (a refund of a listener's balance, an artist's earnings sent
// to them), by the external reference of that payment: it takes the whole
// balance of the listener account and of each of its artists' accounts.
// It returns the transactions recorded.
func (s *Service) PayOutClosed(ctx context.Context, admin *nineten.User, id nineten.ID, ref string) ([]nineten.MoneyTx, error) {
	const op = "account.PayOutClosed"
	if admin == nil || admin.Role != nineten.RoleAdmin {
		return nil, nineten.E(op, nineten.KindPermission, "only admins pay out closed accounts")
	}
	if s.Ledger == nil {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node keeps no ledger")
	}
	if !refRE.MatchString(ref) {
		return nil, nineten.E(op, nineten.KindInvalid, "give the reference of the payment you made, e.g. the bank transfer's or transaction's id: 1–100 characters from A–Z a–z 0–9 . _ ~ @ : + -")
	}
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if !u.Deleted() {
		return nil, nineten.E(op, nineten.KindInvalid, "account "+u.Username+" is open: its owner pays out their money themselves")
	}
	artists, err := s.Store.ArtistsByOwner(ctx, id)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	type account struct {
		kind nineten.AccountKind
		id   string
	}
	accounts := []account{{nineten.AccountListener, strconv.FormatInt(int64(id), 10)}}
	for _, a := range artists {
		accounts = append(accounts, account{nineten.AccountArtist, s.Node + "/" + strconv.FormatInt(int64(a.ID), 10)})
	}
	var out []nineten.MoneyTx
	for i, a := range accounts {
		bal, err := s.Ledger.Balance(ctx, a.kind, a.id)
		if err != nil {
			return out, nineten.E(op, err)
		}
		if bal <= 0 {
			continue
		}
		// One external id per account paid, from the one reference.
		tx, err := s.Ledger.Payout(ctx, a.kind, a.id, "closed:"+ref+":"+strconv.Itoa(i), bal)
		if err != nil {
			return out, nineten.E(op, err)
		}
		out = append(out, tx)
	}
	if len(out) == 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "account "+u.Username+" has no money left to pay out")
	}
	return out, nil
}

// refRE is what the ledger takes in an external id.
var refRE = regexp.MustCompile(`^[A-Za-z0-9._~@:+-]{1,100}$`)

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return nineten.E(op, err)
}
