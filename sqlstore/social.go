package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"nineten.dev"
)

// trackIs is the condition, and its arguments, that selects the rows
// about track: one of this node's by id, or a remote one by the IRI in
// object.
func trackIs(track nineten.TrackRef) (string, []any) {
	if track.ID != 0 {
		return `track_id = ?`, []any{track.ID}
	}
	return `track_id IS NULL AND object = ?`, []any{track.IRI}
}

// checkTrack refuses a TrackRef that names no track.
func checkTrack(op string, track nineten.TrackRef) error {
	if (track.ID == 0) == (track.IRI == "") {
		return nineten.E(op, nineten.KindInvalid, "name a track by its id here or its IRI elsewhere, not both or neither")
	}
	return nil
}

func (s *store) SaveReaction(ctx context.Context, r *nineten.Reaction) (bool, error) {
	const op = "sqlstore.SaveReaction"
	if err := checkTrack(op, r.Track); err != nil {
		return false, err
	}
	if !r.Kind.Valid() {
		return false, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%q is not a kind of reaction", r.Kind))
	}
	object := r.Track.IRI
	if r.Track.ID != 0 {
		object = ""
	}
	var id nineten.ID
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO reactions (kind, track_id, object, actor, activity, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		r.Kind, nullID(r.Track.ID), object, r.Actor, r.Activity, ms(r.CreatedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbError(op, err, "")
	}
	r.ID = id
	return true, nil
}

const reactionCols = `id, kind, coalesce(track_id, 0), object, actor, activity, created_at`

func scanReaction(row scanner) (*nineten.Reaction, error) {
	var r nineten.Reaction
	var created int64
	if err := row.Scan(&r.ID, &r.Kind, &r.Track.ID, &r.Track.IRI, &r.Actor, &r.Activity, &created); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMS(created)
	return &r, nil
}

func (s *store) DeleteReaction(ctx context.Context, track nineten.TrackRef, kind nineten.ReactionKind, actor string) (*nineten.Reaction, error) {
	const op = "sqlstore.DeleteReaction"
	if err := checkTrack(op, track); err != nil {
		return nil, err
	}
	cond, args := trackIs(track)
	r, err := scanReaction(s.write.QueryRowContext(ctx, `
		DELETE FROM reactions WHERE `+cond+` AND kind = ? AND actor = ? RETURNING `+reactionCols,
		append(args, kind, actor)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "a %s of %s", kind, actor)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return r, nil
}

func (s *store) ReactionByActivity(ctx context.Context, activity string) (*nineten.Reaction, error) {
	const op = "sqlstore.ReactionByActivity"
	r, err := scanReaction(s.read.QueryRowContext(ctx, `SELECT `+reactionCols+` FROM reactions WHERE activity = ? ORDER BY id LIMIT 1`, activity))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "reaction %s", activity)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return r, nil
}

func (s *store) ReactionCounts(ctx context.Context, trackID nineten.ID) (likes, boosts int, err error) {
	err = s.read.QueryRowContext(ctx, `
		SELECT coalesce(sum(CASE WHEN kind = ? THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN kind = ? THEN 1 ELSE 0 END), 0)
		FROM reactions WHERE track_id = ?`, nineten.ReactionLike, nineten.ReactionBoost, trackID).Scan(&likes, &boosts)
	if err != nil {
		return 0, 0, dbError("sqlstore.ReactionCounts", err, "")
	}
	return likes, boosts, nil
}

func (s *store) ReactionsOf(ctx context.Context, track nineten.TrackRef, actor string) ([]nineten.ReactionKind, error) {
	const op = "sqlstore.ReactionsOf"
	if err := checkTrack(op, track); err != nil {
		return nil, err
	}
	cond, args := trackIs(track)
	kinds, err := queryAll(ctx, s.read, func(row scanner) (*nineten.ReactionKind, error) {
		var k nineten.ReactionKind
		return &k, row.Scan(&k)
	}, `SELECT kind FROM reactions WHERE `+cond+` AND actor = ? ORDER BY kind`, append(args, actor)...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return kinds, nil
}

func (s *store) RemoteReactionsOf(ctx context.Context, actor string, limit int) ([]nineten.Reaction, error) {
	if limit <= 0 || limit > maxLimit {
		limit = defaultLimit
	}
	rs, err := queryAll(ctx, s.read, scanReaction, `
		SELECT `+reactionCols+` FROM reactions WHERE actor = ? AND track_id IS NULL ORDER BY created_at DESC, id DESC LIMIT ?`, actor, limit)
	if err != nil {
		return nil, dbError("sqlstore.RemoteReactionsOf", err, "")
	}
	return rs, nil
}

func (s *store) CreateComment(ctx context.Context, c *nineten.Comment) error {
	const op = "sqlstore.CreateComment"
	if err := checkTrack(op, c.Track); err != nil {
		return err
	}
	if (c.UserID == 0) == (c.Actor == "") {
		return nineten.E(op, nineten.KindInvalid, "a comment has one author: a local user or a remote actor")
	}
	object := c.Track.IRI
	if c.Track.ID != 0 {
		object = ""
	}
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO comments (track_id, object, user_id, actor, iri, text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		nullID(c.Track.ID), object, nullID(c.UserID), c.Actor, c.IRI, c.Text, ms(c.CreatedAt), ms(c.UpdatedAt)).Scan(&c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.E(op, nineten.KindConflict, "the comment "+c.IRI+" is kept already")
	}
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

// commentFrom selects comments with their authors as people see them.
const commentFrom = `
	SELECT c.id, coalesce(c.track_id, 0), c.object, coalesce(c.user_id, 0), c.actor, c.iri, c.text, c.created_at, c.updated_at,
		coalesce(u.display_name, ra.name, ''), coalesce(u.username, ra.handle, ''), coalesce(u.avatar_key, ra.icon_url, '')
	FROM comments c
	LEFT JOIN users u ON u.id = c.user_id
	LEFT JOIN remote_actors ra ON ra.iri = c.actor AND c.user_id IS NULL`

func scanComment(row scanner) (*nineten.Comment, error) {
	var c nineten.Comment
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Track.ID, &c.Track.IRI, &c.UserID, &c.Actor, &c.IRI, &c.Text, &created, &updated, &c.AuthorName, &c.AuthorHandle, &c.AuthorPicture); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return &c, nil
}

func (s *store) comment(ctx context.Context, op, cond string, arg any) (*nineten.Comment, error) {
	c, err := scanComment(s.read.QueryRowContext(ctx, commentFrom+` WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "comment %v", arg)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return c, nil
}

func (s *store) CommentByID(ctx context.Context, id nineten.ID) (*nineten.Comment, error) {
	return s.comment(ctx, "sqlstore.CommentByID", `c.id = ?`, id)
}

func (s *store) CommentByIRI(ctx context.Context, iri string) (*nineten.Comment, error) {
	const op = "sqlstore.CommentByIRI"
	if iri == "" {
		return nil, notFound(op, "a comment without IRI")
	}
	return s.comment(ctx, op, `c.iri = ?`, iri)
}

func (s *store) EditComment(ctx context.Context, id nineten.ID, text string, at time.Time) error {
	const op = "sqlstore.EditComment"
	res, err := s.write.ExecContext(ctx, `UPDATE comments SET text = ?, updated_at = ? WHERE id = ?`, text, ms(at), id)
	return mustAffect(op, res, err, fmt.Sprintf("comment %d", id))
}

func (s *store) DeleteComment(ctx context.Context, id nineten.ID) error {
	const op = "sqlstore.DeleteComment"
	res, err := s.write.ExecContext(ctx, `DELETE FROM comments WHERE id = ?`, id)
	return mustAffect(op, res, err, fmt.Sprintf("comment %d", id))
}

func (s *store) Comments(ctx context.Context, trackID nineten.ID, p nineten.Page) ([]nineten.Comment, int, error) {
	const op = "sqlstore.Comments"
	limit, offset := window(p)
	var comments []nineten.Comment
	var total int
	err := s.snapshot(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM comments WHERE track_id = ?`, trackID).Scan(&total); err != nil {
			return err
		}
		var err error
		comments, err = queryAll(ctx, q, scanComment, commentFrom+`
			WHERE c.track_id = ? ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?`, trackID, limit, offset)
		return err
	})
	if err != nil {
		return nil, 0, dbError(op, err, "")
	}
	return comments, total, nil
}

func (s *store) CommentCount(ctx context.Context, trackID nineten.ID) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM comments WHERE track_id = ?`, trackID).Scan(&n); err != nil {
		return 0, dbError("sqlstore.CommentCount", err, "")
	}
	return n, nil
}

func (s *store) SaveSharedListen(ctx context.Context, l *nineten.SharedListen) (bool, error) {
	const op = "sqlstore.SaveSharedListen"
	created := false
	err := s.atomic(ctx, func(q querier) error {
		created = false // afresh on every attempt: atomic may retry
		var id nineten.ID
		err := q.QueryRowContext(ctx, `
			INSERT INTO shared_listens (activity, actor, object, title, artist, url, listened_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (activity) DO NOTHING RETURNING id`,
			l.Activity, l.Actor, l.Object, l.Title, l.Artist, l.URL, ms(l.ListenedAt)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		created, l.ID = true, id
		// A friend who plays all day would otherwise fill the database.
		_, err = q.ExecContext(ctx, `
			DELETE FROM shared_listens WHERE actor = ? AND id NOT IN (
				SELECT id FROM shared_listens WHERE actor = ? ORDER BY id DESC LIMIT ?)`,
			l.Actor, l.Actor, nineten.SharedListensKept)
		return err
	})
	if err != nil {
		return false, dbError(op, err, "")
	}
	return created, nil
}

func (s *store) DeleteSharedListen(ctx context.Context, actor, activity string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM shared_listens WHERE actor = ? AND activity = ?`, actor, activity)
	if err != nil {
		return dbError("sqlstore.DeleteSharedListen", err, "")
	}
	return nil
}

func (s *store) FriendListens(ctx context.Context, local string, limit int) ([]nineten.SharedListen, error) {
	if limit <= 0 || limit > maxLimit {
		limit = defaultLimit
	}
	listens, err := queryAll(ctx, s.read, func(row scanner) (*nineten.SharedListen, error) {
		var l nineten.SharedListen
		var at int64
		if err := row.Scan(&l.ID, &l.Activity, &l.Actor, &l.Object, &l.Title, &l.Artist, &l.URL, &at); err != nil {
			return nil, err
		}
		l.ListenedAt = fromMS(at)
		return &l, nil
	}, `
		SELECT l.id, l.activity, l.actor, l.object, l.title, l.artist, l.url, l.listened_at
		FROM shared_listens l JOIN follows f ON f.remote = l.actor
		WHERE f.local = ? AND f.inbound = 0 AND f.state = 'accepted'
		ORDER BY l.listened_at DESC, l.id DESC LIMIT ?`, local, limit)
	if err != nil {
		return nil, dbError("sqlstore.FriendListens", err, "")
	}
	return listens, nil
}

func (s *store) ActorSettings(ctx context.Context, actor string) (*nineten.ActorSettings, error) {
	st := nineten.ActorSettings{Actor: actor}
	err := s.read.QueryRowContext(ctx, `SELECT manual_approval, share_listens FROM actor_settings WHERE actor = ?`, actor).
		Scan(&st.ManualApproval, &st.ShareListens)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, dbError("sqlstore.ActorSettings", err, "")
	}
	return &st, nil
}

func (s *store) SaveActorSettings(ctx context.Context, st *nineten.ActorSettings) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO actor_settings (actor, manual_approval, share_listens) VALUES (?, ?, ?)
		ON CONFLICT (actor) DO UPDATE SET manual_approval = excluded.manual_approval, share_listens = excluded.share_listens`,
		st.Actor, st.ManualApproval, st.ShareListens)
	if err != nil {
		return dbError("sqlstore.SaveActorSettings", err, "")
	}
	return nil
}

func (s *store) PurgeSocial(ctx context.Context, host string) error {
	p1, p2 := hostPatterns(host)
	return s.atomic(ctx, func(q querier) error {
		for _, stmt := range []string{
			// As in BlockDomain: lower() on both sides, for PostgreSQL.
			`DELETE FROM reactions WHERE lower(actor) LIKE lower(?) OR lower(actor) LIKE lower(?)`,
			`DELETE FROM comments WHERE lower(actor) LIKE lower(?) OR lower(actor) LIKE lower(?)`,
			`DELETE FROM shared_listens WHERE lower(actor) LIKE lower(?) OR lower(actor) LIKE lower(?)`,
		} {
			if _, err := q.ExecContext(ctx, stmt, p1, p2); err != nil {
				return dbError("sqlstore.PurgeSocial", err, "")
			}
		}
		return nil
	})
}
