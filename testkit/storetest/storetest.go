// Package storetest is the conformance suite of the nineten.Store port.
// Every implementation runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) nineten.Store { return openEmpty(t) })
//	}
//
// It checks only behaviour the port promises (or that this suite pins down
// where the port leaves a choice, as documented on each test), never how a
// store keeps its data. It passes explicit times to the store and never
// sleeps or reads the wall clock to order events.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"nineten.dev"
)

// Run runs the suite. open must return an empty store that no other call
// of open shares, and arrange for its cleanup; subtests run in parallel,
// each on its own store.
func Run(t *testing.T, open func(t *testing.T) nineten.Store) {
	for _, group := range [][]test{userTests, catalogTests, playlistTests, searchTests, listenTests, remoteListenTests, jobTests, txTests, keyTests, federationTests, domainBlockTests, ledgerTests, totalsTests, batchTests, settingTests, walletTests, gatewayTests, socialTests, hostTests, forgetTests, reportTests, closedTests, anomalyTests, statementTests, reviewTests} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(&env{T: t, ctx: t.Context(), s: open(t)})
			})
		}
	}
}

// test is one subtest of the suite, run on a fresh store.
type test struct {
	name string
	run  func(e *env)
}

// t0 is when every test's story begins. Times in the suite are whole
// milliseconds, the coarsest precision a store may keep.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// env is one test with its store.
type env struct {
	*testing.T
	ctx context.Context
	s   nineten.Store
	seq int
}

// ok fails the test now when err is not nil.
func (e *env) ok(err error) {
	e.Helper()
	if err != nil {
		e.Fatalf("unexpected error: %v", err)
	}
}

// wantKind fails the test unless err is of kind k.
func (e *env) wantKind(err error, k nineten.Kind) {
	e.Helper()
	if err == nil {
		e.Fatalf("got no error, want one of kind %q", k)
	}
	if got := nineten.ErrorKind(err); got != k {
		e.Fatalf("got error %v of kind %q, want kind %q", err, got, k)
	}
}

// same fails the test when got differs from want.
func (e *env) same(what string, want, got any) {
	e.Helper()
	if d := diff(want, got); d != "" {
		e.Fatalf("%s differs (want → got):\n%s", what, d)
	}
}

func (e *env) user(name string) *nineten.User {
	e.Helper()
	u := &nineten.User{Username: name, DisplayName: name, PasswordHash: "hash", Role: nineten.RoleListener, CreatedAt: t0}
	e.ok(e.s.CreateUser(e.ctx, u))
	return u
}

func (e *env) artist(ownerID nineten.ID, name string) *nineten.Artist {
	e.Helper()
	e.seq++
	a := &nineten.Artist{OwnerID: ownerID, Name: name, Slug: fmt.Sprintf("artist-%d", e.seq), CreatedAt: t0}
	e.ok(e.s.CreateArtist(e.ctx, a))
	return a
}

func (e *env) album(artistID nineten.ID, title string, year int) *nineten.Album {
	e.Helper()
	a := &nineten.Album{ArtistID: artistID, Title: title, Year: year, CreatedAt: t0}
	e.ok(e.s.CreateAlbum(e.ctx, a))
	return a
}

// track creates t, ready unless it says otherwise.
func (e *env) track(t nineten.Track) *nineten.Track {
	e.Helper()
	if t.Status == "" {
		t.Status = nineten.TrackReady
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt, t.UpdatedAt = t0, t0
	}
	e.ok(e.s.CreateTrack(e.ctx, &t))
	return &t
}

// listenSession starts a listen session of a track.
func (e *env) listenSession(id string, trackID, userID nineten.ID, startedAt time.Time) *nineten.ListenSession {
	e.Helper()
	ls := &nineten.ListenSession{ID: id, TrackID: trackID, UserID: userID, StartedAt: startedAt}
	if userID == 0 {
		ls.AnonID = "anon-" + id
	}
	e.ok(e.s.CreateListenSession(e.ctx, ls))
	return ls
}

// listen returns the listen of session ls with the given status.
func listen(ls *nineten.ListenSession, status nineten.ListenStatus, verifiedAt time.Time) *nineten.Listen {
	l := &nineten.Listen{
		SessionID: ls.ID, TrackID: ls.TrackID, UserID: ls.UserID, AnonID: ls.AnonID,
		StartedAt: ls.StartedAt, HeardMS: 40_000, Status: status,
	}
	if status == nineten.ListenVerified {
		l.VerifiedAt = verifiedAt
	} else {
		l.Reason = "the node served too little of the track"
	}
	return l
}

func (e *env) playCount(trackID nineten.ID) int64 {
	e.Helper()
	t, err := e.s.TrackByID(e.ctx, trackID)
	e.ok(err)
	return t.PlayCount
}

// ids lists the IDs of tracks, for messages and comparisons.
func ids(tracks []nineten.Track) []nineten.ID {
	out := make([]nineten.ID, len(tracks))
	for i, t := range tracks {
		out[i] = t.ID
	}
	return out
}

// diff describes how got differs from want, field by field. Times compare
// with Equal, so a location or monotonic reading makes no difference, and
// nil and empty slices are alike.
func diff(want, got any) string {
	var b strings.Builder
	compare(&b, "", reflect.ValueOf(want), reflect.ValueOf(got))
	return b.String()
}

var timeType = reflect.TypeFor[time.Time]()

func compare(b *strings.Builder, path string, want, got reflect.Value) {
	if want.Type() == timeType {
		w, g := want.Interface().(time.Time), got.Interface().(time.Time)
		if !w.Equal(g) {
			fmt.Fprintf(b, "  %s: %v → %v\n", path, w, g)
		}
		return
	}
	switch want.Kind() {
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				fmt.Fprintf(b, "  %s: %v → %v\n", path, want, got)
			}
			return
		}
		compare(b, path, want.Elem(), got.Elem())
	case reflect.Struct:
		for i := range want.NumField() {
			compare(b, path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i))
		}
	case reflect.Slice:
		if want.Len() != got.Len() {
			fmt.Fprintf(b, "  %s: %d elements → %d\n", path, want.Len(), got.Len())
			return
		}
		for i := range want.Len() {
			compare(b, fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			fmt.Fprintf(b, "  %s: %#v → %#v\n", path, want.Interface(), got.Interface())
		}
	}
}
