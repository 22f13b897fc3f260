package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// The social side of the node on a real store (both engines) and a
// loopback stand-in for the other servers: what users do, what the node
// queues for delivery, and what it keeps of what others send.

// track makes a ready track of the fediverse's artist.
func (w *fediverse) track(title string) *nineten.Track {
	w.t.Helper()
	t := &nineten.Track{ArtistID: w.artist.ID, Title: title, DurationMS: 60_000, Status: nineten.TrackReady, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := w.db.CreateTrack(w.t.Context(), t); err != nil {
		w.t.Fatal(err)
	}
	return t
}

func (w *fediverse) newUser(name string, role nineten.Role) *nineten.User {
	w.t.Helper()
	u := &nineten.User{Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:], PasswordHash: "-", Role: role, CreatedAt: time.Now()}
	if err := w.db.CreateUser(w.t.Context(), u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

// remoteFollower makes a remote actor (served by a stand-in) follow local.
func (w *fediverse) remoteFollower(host, local string, state nineten.FollowState) string {
	w.t.Helper()
	iri := w.standIn(host) + "/users/f"
	w.sender(iri)
	err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: local, Remote: iri, Inbound: true, State: state, Activity: iri + "#follows/1", CreatedAt: time.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
	return iri
}

// sent returns the deliveries queued since the last call, and marks them
// done.
func (w *fediverse) sent() []delivery {
	w.t.Helper()
	ctx := w.t.Context()
	jobs, err := w.db.ActiveJobs(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []delivery
	for _, j := range jobs {
		var d delivery
		if err := json.Unmarshal(j.Payload, &d); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, d)
		if err := w.db.Complete(ctx, j.ID, time.Now()); err != nil {
			w.t.Fatal(err)
		}
	}
	return out
}

// one checks that exactly one activity was queued, to inbox, and returns it.
func (w *fediverse) one(what, inbox string) []byte {
	w.t.Helper()
	sent := w.sent()
	if len(sent) != 1 || sent[0].Inbox != inbox {
		var got []string
		for _, d := range sent {
			got = append(got, d.Inbox+" "+string(d.Activity))
		}
		w.t.Fatalf("%s: queued %d deliveries %v; want one to %s", what, len(sent), got, inbox)
	}
	return sent[0].Activity
}

func (w *fediverse) social(viewer *nineten.User, t nineten.TrackRef) nineten.TrackSocial {
	w.t.Helper()
	ts, err := w.f.TrackSocial(w.t.Context(), viewer, t)
	if err != nil {
		w.t.Fatal(err)
	}
	return *ts
}

func wantKind(t *testing.T, what string, err error, k nineten.Kind) {
	t.Helper()
	if nineten.ErrorKind(err) != k {
		t.Errorf("%s: %v, want an error of kind %q", what, err, k)
	}
}

func TestLikesBoostsAndCommentsHere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newFediverseOn(t, db)
		ctx := t.Context()
		tr := w.track("Song")
		here := nineten.TrackRef{ID: tr.ID}
		fan, other, admin := w.newUser("fan", nineten.RoleListener), w.newUser("other", nineten.RoleListener), w.newUser("root", nineten.RoleAdmin)
		follower := w.remoteFollower("fans.example", userActorName(fan), nineten.FollowAccepted)
		w.remoteFollower("waiting.example", userActorName(fan), nineten.FollowPending)
		trackIRI := w.f.url(fmt.Sprintf("/tracks/%d", tr.ID))

		// A like of a track here goes to nobody: its artist is here and
		// likes are not for followers. A boost goes to the followers
		// (accepted ones: a request is not a follower yet).
		for range 2 {
			if err := w.f.React(ctx, fan, here, nineten.ReactionLike); err != nil {
				t.Fatal(err)
			}
		}
		if sent := w.sent(); len(sent) != 0 {
			t.Errorf("a like of a local track queued %d deliveries", len(sent))
		}
		if err := w.f.React(ctx, fan, here, nineten.ReactionBoost); err != nil {
			t.Fatal(err)
		}
		boost := w.one("a boost", follower+"/inbox")
		if field(t, boost, "type") != "Announce" || field(t, boost, "object") != trackIRI || !strings.Contains(string(boost), public) || !strings.Contains(string(boost), w.userIRIOf(fan)+"/followers") {
			t.Errorf("the boost: %s", boost)
		}
		if got, want := w.social(fan, here), (nineten.TrackSocial{Likes: 1, Boosts: 1, Liked: true, Boosted: true}); got != want {
			t.Errorf("what the fan sees: %+v, want %+v", got, want)
		}
		if got := w.social(nil, here); got.Liked || got.Likes != 1 {
			t.Errorf("what anyone sees: %+v", got)
		}

		if err := w.f.Unreact(ctx, fan, here, nineten.ReactionBoost); err != nil {
			t.Fatal(err)
		}
		undo := w.one("taking back a boost", follower+"/inbox")
		if field(t, undo, "type") != "Undo" || field(t, undo, "object.type") != "Announce" || field(t, undo, "object.id") != field(t, boost, "id") {
			t.Errorf("the undo: %s; want an Undo of %s", undo, field(t, boost, "id"))
		}
		if err := w.f.Unreact(ctx, fan, here, nineten.ReactionBoost); err != nil || len(w.sent()) != 0 {
			t.Errorf("taking back a boost twice: %v, or it was sent again", err)
		}
		if got := w.social(fan, here); got.Boosts != 0 || got.Boosted || !got.Liked {
			t.Errorf("after taking the boost back: %+v", got)
		}

		// Comments: plain text, sent as a Note in reply to the track.
		_, err := w.f.Comment(ctx, fan, here, " \n ")
		wantKind(t, "an empty comment", err, nineten.KindInvalid)
		_, err = w.f.Comment(ctx, fan, here, strings.Repeat("é", maxCommentRunes+1))
		wantKind(t, "a long comment", err, nineten.KindTooLarge)
		c, err := w.f.Comment(ctx, fan, here, "  <b>loud</b> & clear\r\n\r\nsecond line  ")
		if err != nil {
			t.Fatal(err)
		}
		if c.Text != "<b>loud</b> & clear\n\nsecond line" || c.AuthorHandle != "fan" {
			t.Errorf("comment %+v", c)
		}
		create := w.one("a comment", follower+"/inbox")
		noteID := w.f.url(fmt.Sprintf("/comments/%d", c.ID))
		if field(t, create, "type") != "Create" || field(t, create, "object.id") != noteID || field(t, create, "object.inReplyTo") != trackIRI ||
			field(t, create, "object.content") != "<p>&lt;b&gt;loud&lt;/b&gt; &amp; clear</p><p>second line</p>" {
			t.Errorf("the comment's Create: %s", create)
		}
		later, err := w.f.Comment(ctx, other, here, "me too")
		if err != nil {
			t.Fatal(err)
		}
		list, total, err := w.f.Comments(ctx, tr.ID, nineten.Page{})
		if err != nil || total != 2 || len(list) != 2 || list[0].ID != later.ID || list[1].ID != c.ID || list[1].AuthorName != "Fan" {
			t.Errorf("comments %+v (%d), %v; want the later first, with their authors", list, total, err)
		}
		if got := w.social(nil, here); got.Comments != 2 {
			t.Errorf("%d comments counted", got.Comments)
		}

		// Other servers fetch a comment as its Note; browsers go to the
		// track's page.
		note := fetch(t, noteID, true)
		if field(t, note, "type") != "Note" || field(t, note, "inReplyTo") != trackIRI || field(t, note, "attributedTo") != w.userIRIOf(fan) {
			t.Errorf("the comment's Note: %s", note)
		}
		if r := get(t, noteID, false); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != w.f.url(fmt.Sprintf("/app/tracks/%d", tr.ID)) {
			t.Errorf("a browser at the comment: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}

		// Its author or an admin may delete a comment; the Delete is the
		// author's, whoever removed it.
		wantKind(t, "deleting another's comment", w.f.DeleteComment(ctx, other, c.ID), nineten.KindPermission)
		if err := w.f.DeleteComment(ctx, admin, c.ID); err != nil {
			t.Fatal(err)
		}
		del := w.one("deleting a comment", follower+"/inbox")
		if field(t, del, "type") != "Delete" || field(t, del, "actor") != w.userIRIOf(fan) || field(t, del, "object.id") != noteID || field(t, del, "object.type") != "Tombstone" {
			t.Errorf("the Delete: %s", del)
		}
		if err := w.f.DeleteComment(ctx, other, later.ID); err != nil {
			t.Fatal(err)
		}
		if list, total, _ := w.f.Comments(ctx, tr.ID, nineten.Page{}); total != 0 || len(list) != 0 {
			t.Errorf("comments left: %+v", list)
		}

		// A hidden track takes nothing.
		tr.Hidden = true
		if err := db.UpdateTrack(ctx, tr); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "liking a hidden track", w.f.React(ctx, other, here, nineten.ReactionLike), nineten.KindNotFound)
		_, err = w.f.Comment(ctx, other, here, "hello?")
		wantKind(t, "commenting on a hidden track", err, nineten.KindNotFound)
		wantKind(t, "anonymous liking", w.f.React(ctx, nil, here, nineten.ReactionLike), nineten.KindUnauthenticated)
	})
}

func (w *fediverse) userIRIOf(u *nineten.User) string { return w.f.url("/users/" + u.Username) }

// get fetches url as a server (AS) or a browser would, without following
// redirects.
func get(t *testing.T, url string, activity bool) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if activity {
		req.Header.Set("Accept", activityJSON)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// fetch reads the ActivityStreams document at url.
func fetch(t *testing.T, url string, activity bool) []byte {
	t.Helper()
	resp := get(t, url, activity)
	var doc json.RawMessage
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&doc) != nil {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return doc
}

// toBoth reports whether sent are one delivery to each actor's inbox.
func toBoth(sent []delivery, a, b string) bool {
	return len(sent) == 2 && (sent[0].Inbox == a+"/inbox" && sent[1].Inbox == b+"/inbox" || sent[0].Inbox == b+"/inbox" && sent[1].Inbox == a+"/inbox")
}

// Liking, boosting and commenting a track on another server: the node
// reads the track to find its artist and tells the artist's server.
func TestReactingToATrackElsewhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newFediverseOn(t, db)
		ctx := t.Context()
		fan := w.newUser("fan", nineten.RoleListener)
		follower := w.remoteFollower("fans.example", userActorName(fan), nineten.FollowAccepted)
		host := w.standIn("music.example")
		artist, song := host+"/artists/bo", host+"/tracks/9"
		w.sender(artist)
		w.serve(song, []byte(fmt.Sprintf(`{"@context": %q, "id": %q, "type": "Audio", "name": "Far Song", "attributedTo": %q}`, asContext, song, artist)))
		there := nineten.TrackRef{IRI: song}

		if err := w.f.React(ctx, fan, there, nineten.ReactionLike); err != nil {
			t.Fatal(err)
		}
		like := w.one("a like of a remote track", artist+"/inbox")
		if field(t, like, "type") != "Like" || field(t, like, "object") != song || field(t, like, "actor") != w.userIRIOf(fan) {
			t.Errorf("the like: %s", like)
		}
		mine, err := w.f.RemoteReactions(ctx, fan, 10)
		if err != nil || len(mine) != 1 || mine[0].Track.IRI != song || mine[0].Kind != nineten.ReactionLike {
			t.Errorf("the fan's reactions elsewhere: %+v, %v", mine, err)
		}
		if got := w.social(fan, there); !got.Liked || got.Likes != 0 {
			t.Errorf("a remote track: %+v; want liked, counts unknown", got)
		}
		if err := w.f.React(ctx, fan, there, nineten.ReactionBoost); err != nil {
			t.Fatal(err)
		}
		if sent := w.sent(); !toBoth(sent, follower, artist) {
			t.Errorf("a boost of a remote track went to %d inboxes; want the follower's and the artist's", len(sent))
		}
		c, err := w.f.Comment(ctx, fan, there, "from here")
		if err != nil {
			t.Fatal(err)
		}
		if sent := w.sent(); !toBoth(sent, follower, artist) || field(t, sent[0].Activity, "object.inReplyTo") != song {
			t.Errorf("a comment on a remote track: %d deliveries", len(sent))
		}
		if err := w.f.Unreact(ctx, fan, there, nineten.ReactionLike); err != nil {
			t.Fatal(err)
		}
		if undo := w.one("taking back a like", artist+"/inbox"); field(t, undo, "object.id") != field(t, like, "id") {
			t.Errorf("the undo: %s", undo)
		}
		if err := w.f.DeleteComment(ctx, fan, c.ID); err != nil {
			t.Fatal(err)
		}
		if sent := w.sent(); !toBoth(sent, follower, artist) || field(t, sent[0].Activity, "type") != "Delete" {
			t.Errorf("deleting the comment: %d deliveries; want a Delete to the follower's and the artist's inbox", len(sent))
		}

		// A track said to be by an actor on another host is refused, as
		// Mastodon refuses such attributions; this node's own tracks are
		// named by id whatever form they come in.
		fake := host + "/tracks/10"
		w.serve(fake, []byte(fmt.Sprintf(`{"id": %q, "type": "Audio", "attributedTo": %q}`, fake, w.standIn("elsewhere.example")+"/u")))
		wantKind(t, "a track of a foreign artist", w.f.React(ctx, fan, nineten.TrackRef{IRI: fake}, nineten.ReactionLike), nineten.KindInvalid)
		tr := w.track("Local")
		if err := w.f.React(ctx, fan, nineten.TrackRef{IRI: w.f.url(fmt.Sprintf("/tracks/%d/note", tr.ID))}, nineten.ReactionLike); err != nil {
			t.Fatal(err)
		}
		if got := w.social(fan, nineten.TrackRef{ID: tr.ID}); got.Likes != 1 || !got.Liked {
			t.Errorf("a local track liked by its Note's IRI: %+v", got)
		}
		admin := w.newUser("root", nineten.RoleAdmin)
		if _, err := w.f.BlockDomain(ctx, admin, host, "spam"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "liking a track on a blocked server", w.f.React(ctx, fan, there, nineten.ReactionLike), nineten.KindPermission)
	})
}

// An actor whose owner approves followers by hand says so, and keeps
// follow requests waiting until the owner answers.
func TestManualApprovalOfFollowers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newFediverseOn(t, db)
		ctx := t.Context()
		owner := w.user
		existing := w.remoteFollower("old.example", artistActorName(w.artist), nineten.FollowAccepted)
		if manual := field(t, fetch(t, w.artistIRI(), true), "manuallyApprovesFollowers"); manual != "" {
			t.Fatalf("manuallyApprovesFollowers = %q before", manual)
		}
		_, err := w.f.UpdateSocialSettings(ctx, owner, nineten.SocialSettings{Artists: []nineten.ArtistSettings{{ArtistID: w.artist.ID + 1, ManualApproval: true}}})
		wantKind(t, "settings of someone else's artist", err, nineten.KindPermission)
		st, err := w.f.UpdateSocialSettings(ctx, owner, nineten.SocialSettings{ShareListens: true, Artists: []nineten.ArtistSettings{{ArtistID: w.artist.ID, ManualApproval: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if !st.ShareListens || st.ManualApproval || len(st.Artists) != 1 || !st.Artists[0].ManualApproval || st.Artists[0].Name != "Bob Band" {
			t.Errorf("settings %+v", st)
		}
		var doc map[string]any
		_ = json.Unmarshal(fetch(t, w.artistIRI(), true), &doc)
		if doc["manuallyApprovesFollowers"] != true {
			t.Errorf("the artist's actor says manuallyApprovesFollowers = %v", doc["manuallyApprovesFollowers"])
		}
		// Its followers' servers learn it from an Update of the actor.
		if update := w.one("the changed setting", existing+"/inbox"); field(t, update, "type") != "Update" || !strings.Contains(string(update), `"manuallyApprovesFollowers":true`) {
			t.Errorf("the update: %s", update)
		}

		follow := func(host string, at time.Time) []byte {
			doc := w.load("mastodon/follow.json", map[string]string{"http://localtesting.pleroma.lol/users/lain": w.artistIRI(), "mastodon.example.org": host})
			if status := w.deliverAt(doc, at); status != http.StatusAccepted {
				t.Fatalf("the follow: %d", status)
			}
			return doc
		}
		// Each delivery of the same follow needs a signature of its own.
		now := time.Now()
		yes, no := follow("yes.example", now), follow("no.example", now)
		if sent := w.sent(); len(sent) != 0 {
			t.Errorf("follow requests were answered at once: %d deliveries", len(sent))
		}
		// The followers collection counts followers, not requests.
		if n := fetch(t, w.artistIRI()+"/followers", true); !strings.Contains(string(n), `"totalItems":1`) {
			t.Errorf("followers: %s", n)
		}
		reqs, err := w.f.FollowRequests(ctx, owner)
		if err != nil || len(reqs) != 2 || reqs[0].ArtistID != w.artist.ID || reqs[0].Name != "Bob Band" || reqs[0].Actor.IRI != act0(yes).Actor {
			t.Fatalf("follow requests %+v, %v", reqs, err)
		}
		wantKind(t, "answering another's request", w.f.AnswerFollowRequest(ctx, w.newUser("stranger", nineten.RoleListener), reqs[0].ID, true), nineten.KindNotFound)

		if err := w.f.AnswerFollowRequest(ctx, owner, reqs[0].ID, true); err != nil {
			t.Fatal(err)
		}
		accept := w.one("accepting", act0(yes).Actor+"/inbox")
		if field(t, accept, "type") != "Accept" || field(t, accept, "object.id") != act0(yes).ID || field(t, accept, "actor") != w.artistIRI() {
			t.Errorf("the accept: %s", accept)
		}
		if err := w.f.AnswerFollowRequest(ctx, owner, reqs[1].ID, false); err != nil {
			t.Fatal(err)
		}
		if reject := w.one("rejecting", act0(no).Actor+"/inbox"); field(t, reject, "type") != "Reject" || field(t, reject, "object.id") != act0(no).ID {
			t.Errorf("the reject: %s", reject)
		}
		followers, err := db.Follows(ctx, artistActorName(w.artist), true)
		if err != nil || len(followers) != 2 || followers[1].Remote != act0(yes).Actor || followers[1].State != nineten.FollowAccepted {
			t.Errorf("followers %+v, %v; want the old one and the accepted one", followers, err)
		}
		if reqs, _ := w.f.FollowRequests(ctx, owner); len(reqs) != 0 {
			t.Errorf("requests left: %+v", reqs)
		}
		// A follower who asks again stays a follower, and hears so.
		follow("yes.example", now.Add(-time.Minute))
		if accept := w.one("a repeated follow", act0(yes).Actor+"/inbox"); field(t, accept, "type") != "Accept" {
			t.Errorf("a repeated follow of an approved follower: %s", accept)
		}
	})
}

// Shared listens go to followers only when the listener chose to share,
// and a node keeps those of the actors its users follow.
func TestSharedListens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newFediverseOn(t, db)
		ctx, now := t.Context(), time.Now()
		tr := w.track("Played")
		fan := w.newUser("fan", nineten.RoleListener)
		follower := w.remoteFollower("fans.example", userActorName(fan), nineten.FollowAccepted)
		listen := &nineten.Listen{ID: 42, TrackID: tr.ID, UserID: fan.ID, Status: nineten.ListenVerified, VerifiedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
		w.f.ListenVerified(ctx, listen)
		if sent := w.sent(); len(sent) != 0 {
			t.Fatalf("a listen was shared without the listener's leave: %s", sent[0].Activity)
		}
		if _, err := w.f.UpdateSocialSettings(ctx, fan, nineten.SocialSettings{ShareListens: true}); err != nil {
			t.Fatal(err)
		}
		w.f.ListenVerified(ctx, &nineten.Listen{ID: 43, TrackID: tr.ID, AnonID: "anon", Status: nineten.ListenVerified})
		if sent := w.sent(); len(sent) != 0 {
			t.Errorf("an anonymous listen was shared")
		}
		w.f.ListenVerified(ctx, listen)
		l := w.one("a shared listen", follower+"/inbox")
		if field(t, l, "type") != "Listen" || field(t, l, "id") != w.userIRIOf(fan)+"#listens/42" || field(t, l, "object.id") != w.f.url(fmt.Sprintf("/tracks/%d", tr.ID)) ||
			field(t, l, "object.name") != "Played" || field(t, l, "object.attributedTo.name") != "Bob Band" || field(t, l, "published") != "2025-01-02T03:04:05Z" ||
			strings.Contains(string(l), public) {
			t.Errorf("the listen: %s; want it to followers only", l)
		}

		// Received: kept for those who follow the listener, once.
		friend := w.standIn("friends.example") + "/users/ana"
		w.follow(friend, "")
		stranger := w.standIn("strangers.example") + "/users/x"
		for _, actor := range []string{friend, stranger} {
			doc := strings.ReplaceAll(string(l), w.userIRIOf(fan), actor)
			for i := range 2 {
				if status := w.deliverAt([]byte(doc), now.Add(-time.Duration(i)*time.Minute)); status != http.StatusAccepted {
					t.Fatalf("a Listen answered %d", status)
				}
			}
		}
		got, err := w.f.FriendListens(ctx, w.user, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("friend listens %+v, %v; want the friend's one", got, err)
		}
		if g := got[0]; g.Actor.IRI != friend || g.Actor.Handle == "" || g.Title != "Played" || g.Artist != "Bob Band" || g.URL != w.f.url(fmt.Sprintf("/app/tracks/%d", tr.ID)) || !g.ListenedAt.Equal(listen.VerifiedAt) {
			t.Errorf("friend listen %+v", g)
		}
		// Funkwhale withdraws a listen with a Delete of it.
		del, _ := json.Marshal(map[string]any{"@context": asContext, "id": friend + "#delete-listen", "type": "Delete", "actor": friend,
			"object": map[string]any{"id": friend + "#listens/42", "type": "Listen"}})
		if status := w.deliver(del); status != http.StatusAccepted {
			t.Fatalf("the delete answered %d", status)
		}
		if got, _ := w.f.FriendListens(ctx, w.user, 10); len(got) != 0 {
			t.Errorf("a deleted listen stays: %+v", got)
		}
	})
}

// Markup from other servers becomes text: tags go, line breaks stay, and
// what scripts and styles hold is not text.
func TestPlainTextOfMarkup(t *testing.T) {
	for in, want := range map[string]string{
		`<p>one<br>two<br/>three</p><p>four</p>`:                     "one\ntwo\nthree\nfour",
		`<p><a title="a>b" href='x'>link</a></p>`:                    "link",
		`<script>alert("<p>hi</p>")</script>after<style>p{}</style>`: "after",
		`a <!-- <b>not</b> --> b`:                                    "a  b",
		`1 < 2 &amp;&amp; 3 > 2 &lt;b&gt;`:                           "1 < 2 && 3 > 2 <b>",
		`<p>a</p><p></p><p></p><p>b</p>`:                             "a\n\nb",
		`unclosed <a href="x`:                                        "unclosed",
	} {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}
