package listen_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/listen"
)

// remoteTrack is a track of b.example as its server describes it; its
// media playlists sit in the node's cache of remote media, where the
// node's remote-media path puts them.
func (r *rig) remoteTrack(payee string, durationMS int64) *nineten.RemoteTrack {
	r.t.Helper()
	r.n++
	t := &nineten.RemoteTrack{
		IRI: fmt.Sprintf("https://b.example/tracks/%d", r.n), Title: "Far", ArtistIRI: "https://b.example/artists/bo", ArtistName: "Bo",
		Payee: payee, DurationMS: durationMS, HLSURL: fmt.Sprintf("https://b.example/media/tracks/%d/hls/master.m3u8", r.n),
	}
	var pl strings.Builder
	pl.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	for i, at := 0, int64(0); at < durationMS; i, at = i+1, at+4000 {
		fmt.Fprintf(&pl, "#EXTINF:%.3f,\nseg%d.m4s\n", float64(min(4000, durationMS-at))/1000, i)
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	if _, err := r.svc.Blobs.Put(r.t.Context(), fmt.Sprintf("remote/b.example/media/tracks/%d/hls/opus128/index.m3u8", r.n), strings.NewReader(pl.String())); err != nil {
		r.t.Fatal(err)
	}
	return t
}

func (r *rig) user(name string) *nineten.User {
	r.t.Helper()
	u := &nineten.User{Username: name, PasswordHash: "x", Role: nineten.RoleListener, CreatedAt: r.clock.Now()}
	if err := r.store.CreateUser(r.t.Context(), u); err != nil {
		r.t.Fatal(err)
	}
	return u
}

// A play of another server's track counts like a local one: only what the
// node itself served (its remote-media path, keys under the track's cache
// directory) is evidence, and the listen pays the payee the track's
// server named.
func TestRemotePlayVerifiedByWhatTheNodeServed(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		tracks := map[string]*nineten.RemoteTrack{}
		r.svc.Resolve = func(_ context.Context, iri string) (*nineten.RemoteTrack, error) {
			if tr, ok := tracks[iri]; ok {
				c := *tr
				return &c, nil
			}
			return nil, nineten.E("test", nineten.KindNotFound, "no such track")
		}
		far := r.remoteTrack("b.example/3", 60_000)
		tracks[far.IRI] = far
		lena := r.user("lena")

		if _, err := r.svc.StartRemote(ctx, nil, far.IRI, listen.Client{}); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Fatalf("anonymous remote play: %v", err)
		}
		s, err := r.svc.StartRemote(ctx, lena, far.IRI, listen.Client{})
		if err != nil {
			t.Fatal(err)
		}
		dir := "remote/b.example/media/tracks/" + strings.TrimPrefix(far.IRI, "https://b.example/tracks/") + "/hls/"
		if !nineten.IsRemoteSession(s.SessionID) || s.HLSURL != "/media/"+dir+"master.m3u8" || s.ThresholdMS != 30_000 {
			t.Fatalf("started %+v", s)
		}
		if !r.svc.Relays(ctx, s.SessionID, dir+"opus128/seg0.m4s") || r.svc.Relays(ctx, s.SessionID, "remote/b.example/media/tracks/999/hls/opus128/seg0.m4s") {
			t.Fatal("the node relays exactly the session's track")
		}

		// 8 s served, 31 s claimed after 31 s: not verified.
		for i := range 2 {
			if err := r.svc.RemoteSegmentServed(ctx, s.SessionID, fmt.Sprintf("%sopus128/seg%d.m4s", dir, i)); err != nil {
				t.Fatal(err)
			}
		}
		// Segments of another track, or through the local path, are no evidence.
		if err := r.svc.RemoteSegmentServed(ctx, s.SessionID, "remote/b.example/media/tracks/999/hls/opus128/seg2.m4s"); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.SegmentServed(ctx, s.SessionID, 1, "opus128/seg3.m4s"); err != nil {
			t.Fatal(err)
		}
		r.clock.Add(31 * time.Second)
		out, err := r.report(s, 1, 31_000)
		if err != nil || out.Counted || out.ServedMS != 8_000 {
			t.Fatalf("claim beyond what was served: %+v, %v", out, err)
		}
		// Once the node has served 32 s, the same claim counts.
		for i := 2; i < 8; i++ {
			if err := r.svc.RemoteSegmentServed(ctx, s.SessionID, fmt.Sprintf("%sopus128/seg%d.m4s", dir, i)); err != nil {
				t.Fatal(err)
			}
		}
		r.clock.Add(time.Second)
		if out, err = r.report(s, 2, 32_000); err != nil || !out.Counted || out.ServedMS != 32_000 {
			t.Fatalf("claim after 32 s served: %+v, %v", out, err)
		}
		recent, err := r.svc.Recent(ctx, lena.ID, 10)
		if err != nil || len(recent) != 1 || recent[0].Remote == nil || recent[0].Remote.IRI != far.IRI || recent[0].HeardMS != 32_000 {
			t.Fatalf("recently played: %+v, %v", recent, err)
		}
		var totals []nineten.ListenerArtistTotal
		q := nineten.TotalsQuery{From: r.clock.Now().Add(-time.Hour), To: r.clock.Now().Add(time.Hour), MinHeardMS: nineten.MinEligibleListenMS}
		if err := r.store.ListeningTotals(ctx, q, func(t nineten.ListenerArtistTotal) error { totals = append(totals, t); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(totals) != 1 || totals[0].Artist("here.example") != "b.example/3" || totals[0].HeardMS != 32_000 {
			t.Fatalf("totals %+v", totals)
		}

		// Tracks that cannot be paid or played through the node are refused.
		unpaid := r.remoteTrack("", 60_000)
		tracks[unpaid.IRI] = unpaid
		elsewhere := r.remoteTrack("b.example/3", 60_000)
		elsewhere.HLSURL = "https://cdn.example/media/tracks/1/hls/master.m3u8"
		tracks[elsewhere.IRI] = elsewhere
		for _, iri := range []string{unpaid.IRI, elsewhere.IRI} {
			if _, err := r.svc.StartRemote(ctx, lena, iri, listen.Client{}); nineten.ErrorKind(err) != nineten.KindInvalid {
				t.Errorf("playing %s through the node: %v, want invalid", iri, err)
			}
		}
	})
}
