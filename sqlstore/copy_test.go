package sqlstore_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// Every table of the schema, on both engines, is one that Copy copies
// (or a search index that each engine builds itself).
func TestCopyCoversEveryTable(t *testing.T) {
	for _, d := range dbtest.Dialects {
		dsn := dbtest.DSN(t, d)
		dbtest.OpenDSN(t, dsn) // migrates
		raw := dbtest.OpenRaw(t, dsn)
		q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'tracks_fts%' AND name != 'goose_db_version'`
		if d == sqlstore.Postgres {
			q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('tracks_fts', 'goose_db_version')`
		}
		rows, err := raw.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		want := sqlstore.CopyTables()
		slices.Sort(tables)
		slices.Sort(want)
		if !slices.Equal(tables, want) {
			t.Errorf("%s has tables %v; Copy copies %v", d, tables, want)
		}
	}
}

// A node's SQLite database copied into PostgreSQL reads the same through
// the store, searches the same, keeps its ledger verifiable, and takes new
// rows without id collisions; a second copy into the same database is
// refused.
func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := t.Context()
	src := dbtest.Open(t, sqlstore.SQLite)
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	ann := &nineten.User{Username: "Ann", DisplayName: "Ann Ó", PasswordHash: "h", Role: nineten.RoleArtist, CreatedAt: now}
	bob := &nineten.User{Username: "bob", PasswordHash: "h", Role: nineten.RoleListener, CreatedAt: now}
	for _, u := range []*nineten.User{ann, bob} {
		must(t, src.CreateUser(ctx, u))
	}
	must(t, src.CreateSession(ctx, nineten.Session{TokenHash: "sess-hash", UserID: bob.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(t, src.CreateToken(ctx, &nineten.APIToken{UserID: ann.ID, Name: "cli", TokenHash: "tok-hash", CreatedAt: now}))
	artist := &nineten.Artist{OwnerID: ann.ID, Name: "Ann's Échos", Slug: "ann-echos", CreatedAt: now}
	must(t, src.CreateArtist(ctx, artist))
	album := &nineten.Album{ArtistID: artist.ID, Title: "Nuit Blanche", Year: 2026, CreatedAt: now}
	must(t, src.CreateAlbum(ctx, album))
	track := &nineten.Track{ArtistID: artist.ID, AlbumID: album.ID, Title: "Première lueur", Genre: "Ambient", DurationMS: 200_000, Status: nineten.TrackReady, CreatedAt: now, UpdatedAt: now}
	must(t, src.CreateTrack(ctx, track))
	must(t, src.CreateListenSession(ctx, &nineten.ListenSession{ID: "sess-1", TrackID: track.ID, UserID: bob.ID, StartedAt: now}))
	must(t, src.RecordServedSegment(ctx, nineten.ServedSegment{SessionID: "sess-1", Rendition: "opus128", Index: 0, StartMS: 0, EndMS: 4000, ServedAt: now}))
	must(t, src.SaveListen(ctx, &nineten.Listen{SessionID: "sess-1", TrackID: track.ID, UserID: bob.ID, StartedAt: now, HeardMS: 40_000, Status: nineten.ListenVerified, VerifiedAt: now}))
	must(t, src.Enqueue(ctx, &nineten.Job{Kind: "process_track", Payload: []byte(`{"track":1}`), MaxAttempts: 3, RunAt: now}))
	must(t, src.CreateActorKeys(ctx, &nineten.ActorKeys{Actor: "node", RSAPrivatePEM: "pem", Ed25519Seed: make([]byte, 32), CreatedAt: now}))
	must(t, src.BlockDomain(ctx, &nineten.DomainBlock{Host: "spam.example", Reason: "spam", CreatedAt: now}))
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: src, Key: key}, Node: "music.example"}
	if _, err := ledger.Deposit(ctx, "2", "sim:1", 25_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Subscribe(ctx, "2", "2026-11"); err != nil {
		t.Fatal(err)
	}
	if _, err := src.InitSetting(ctx, "node_secret_sha256", "abc"); err != nil {
		t.Fatal(err)
	}

	dst := dbtest.Open(t, sqlstore.Postgres)
	var seen []string
	report, err := sqlstore.Copy(ctx, src, dst, func(table string, done, total int64) {
		if len(seen) == 0 || seen[len(seen)-1] != table {
			seen = append(seen, table)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, tc := range report {
		rows[tc.Table] = tc.Rows
	}
	for table, want := range map[string]int64{"users": 2, "tracks": 1, "listens": 1, "ledger_log": 2, "settings": 1, "served_segments": 1} {
		if rows[table] != want {
			t.Errorf("%s: %d rows copied, want %d", table, rows[table], want)
		}
	}
	if len(seen) != len(sqlstore.CopyTables()) {
		t.Errorf("progress named %d tables, want %d", len(seen), len(sqlstore.CopyTables()))
	}

	got, err := dst.UserByUsername(ctx, "ANN")
	if err != nil || got.ID != ann.ID || got.DisplayName != "Ann Ó" {
		t.Fatalf("user after the copy: %+v, %v", got, err)
	}
	tr, err := dst.TrackByID(ctx, track.ID)
	if err != nil || tr.Title != "Première lueur" || tr.PlayCount != 1 {
		t.Fatalf("track after the copy: %+v, %v", tr, err)
	}
	found, n, err := dst.ListTracks(ctx, nineten.TrackFilter{Query: "premiere echos"}, nineten.Page{Limit: 10})
	if err != nil || n != 1 || found[0].ID != track.ID {
		t.Errorf("search on the copy: %d tracks, %v", n, err)
	}
	if sub, err := (&embedded.Contract{Ledger: &embedded.Ledger{Store: dst}, Node: "music.example"}).SubscriptionOf(ctx, "2"); err != nil || sub.Paid != "2026-11" {
		t.Errorf("subscription after the copy: %+v, %v", sub, err)
	}
	if _, err := (&embedded.Ledger{Store: dst}).Verify(ctx, key.Public().(ed25519.PublicKey), nil); err != nil {
		t.Errorf("the copied ledger does not verify: %v", err)
	}
	carl := &nineten.User{Username: "carl", PasswordHash: "h", Role: nineten.RoleListener, CreatedAt: now}
	if err := dst.CreateUser(ctx, carl); err != nil || carl.ID <= bob.ID {
		t.Errorf("a new user after the copy: id %d, %v (ids up to %d were copied)", carl.ID, err, bob.ID)
	}

	if _, err := sqlstore.Copy(ctx, src, dst, nil); nineten.ErrorKind(err) != nineten.KindConflict {
		t.Errorf("copying into a database that is not empty: %v, want a conflict", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
