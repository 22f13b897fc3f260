package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nineten.dev/listen"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// The social side across two real nodes: likes, boosts and comments from
// one node reach a track on the other and are taken back; listens are
// shared with followers only when the listener says so; follow requests
// wait for the owner's answer.

type trackSocial struct {
	Likes, Boosts, Comments int
	Liked, Boosted          bool
}

type comment struct {
	ID     int64
	Text   string
	Remote bool
	Author struct {
		Name, Handle, Actor string
		AvatarURL           string `json:"avatar_url"`
	}
}

type following struct {
	ID    int64
	State string
	Actor struct{ ID, Handle, Name string }
}

func (c *client) follows() []following {
	c.t.Helper()
	var list struct{ Items []following }
	c.must(c.json("GET", "/api/v1/follows", nil), 200, &list)
	return list.Items
}

// uploadTrack uploads a short track and waits until it is ready.
func uploadTrack(t *testing.T, artist *client, title string) track {
	t.Helper()
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "t.mp3", Seconds: 3, Title: title})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	tr := artist.waitTrack(up.Track.ID)
	if tr.Status != "ready" {
		t.Fatalf("track %q: %s %s", title, tr.Status, tr.Error)
	}
	return tr
}

func TestLikesBoostsAndCommentsAcrossNodes(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostA := strings.TrimPrefix(a.URL, "http://")
	artist, _ := signupArtist(t, b.URL, "boris", "Bo Band")
	tr := uploadTrack(t, artist, "Talk Of The Town")
	iri := fmt.Sprintf("%s/tracks/%d", b.URL, tr.ID)

	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	// Bea, on B, follows Ana: Ana's boosts reach her feed.
	bea := newClient(t, b.URL)
	bea.must(bea.json("POST", "/api/v1/auth/signup", map[string]string{"username": "bea", "password": "password-bea"}), 201, nil)
	bea.must(bea.json("POST", "/api/v1/follows", map[string]string{"handle": "@ana@" + hostA}), 201, nil)
	eventually(t, 30*time.Second, "A accepting Bea's follow", func() bool {
		f := bea.follows()
		return len(f) == 1 && f[0].State == "accepted"
	})

	react := func(kind string, active bool) trackSocial {
		var ts trackSocial
		ana.must(ana.json("PUT", "/api/v1/remote/reactions", map[string]any{"iri": iri, "kind": kind, "active": active}), 200, &ts)
		return ts
	}
	if ts := react("like", true); !ts.Liked {
		t.Errorf("after liking: %+v", ts)
	}
	if ts := react("boost", true); !ts.Liked || !ts.Boosted {
		t.Errorf("after boosting: %+v", ts)
	}
	// With an avatar, shown beside her comment there.
	var pic pictured
	ana.must(ana.multipart("PUT", "/api/v1/me/pictures/avatar", geotagged(t, 64, 64, "GPS"), "me.jpg", "image/jpeg"), 200, &pic)
	var mine comment
	ana.must(ana.json("POST", "/api/v1/remote/comments", map[string]string{"iri": iri, "text": "<b>Loved</b> it & more"}), 201, &mine)
	if mine.Author.AvatarURL != *pic.AvatarURL {
		t.Errorf("her comment's avatar here: %q, want %q", mine.Author.AvatarURL, *pic.AvatarURL)
	}

	anon := newClient(t, b.URL)
	social := func() trackSocial {
		var ts trackSocial
		anon.must(anon.json("GET", fmt.Sprintf("/api/v1/tracks/%d/social", tr.ID), nil), 200, &ts)
		return ts
	}
	eventually(t, 30*time.Second, "the like, boost and comment reaching B", func() bool {
		ts := social()
		return ts.Likes == 1 && ts.Boosts == 1 && ts.Comments == 1
	})
	var comments struct {
		Items []comment
		Total int
	}
	anon.must(anon.json("GET", fmt.Sprintf("/api/v1/tracks/%d/comments", tr.ID), nil), 200, &comments)
	if c := comments.Items[0]; comments.Total != 1 || c.Text != "<b>Loved</b> it & more" || !c.Remote || c.Author.Handle != "ana@"+hostA || c.Author.Actor != a.URL+"/users/ana" || c.Author.AvatarURL != a.URL+*pic.AvatarURL {
		t.Errorf("comments on B: %+v", comments)
	}
	// The boost went to Ana's followers: it is in Bea's feed.
	eventually(t, 30*time.Second, "the boost reaching Bea's feed", func() bool {
		var feed struct {
			Items []struct{ Type, Object string }
		}
		bea.must(bea.json("GET", "/api/v1/feed", nil), 200, &feed)
		return len(feed.Items) == 1 && feed.Items[0].Type == "Announce" && feed.Items[0].Object == iri
	})
	// B's own listeners react there; the counts add up.
	bea.must(bea.json("PUT", fmt.Sprintf("/api/v1/tracks/%d/like", tr.ID), nil), 200, nil)
	if ts := social(); ts.Likes != 2 {
		t.Errorf("after Bea's like: %+v", ts)
	}

	// Taking it all back reaches B too.
	react("like", false)
	react("boost", false)
	ana.must(ana.json("DELETE", fmt.Sprintf("/api/v1/comments/%d", mine.ID), nil), 204, nil)
	eventually(t, 30*time.Second, "the undos and the delete reaching B", func() bool {
		ts := social()
		return ts.Likes == 1 && ts.Boosts == 0 && ts.Comments == 0
	})
	var left struct{ Items []struct{ IRI, Kind string } }
	ana.must(ana.json("GET", "/api/v1/me/remote-reactions", nil), 200, &left)
	if len(left.Items) != 0 {
		t.Errorf("Ana's reactions elsewhere after taking them back: %+v", left.Items)
	}

	// Only the author or an admin deletes a comment.
	var beas comment
	bea.must(bea.json("POST", fmt.Sprintf("/api/v1/tracks/%d/comments", tr.ID), map[string]string{"text": "mine"}), 201, &beas)
	if r := artist.json("DELETE", fmt.Sprintf("/api/v1/comments/%d", beas.ID), nil); r.StatusCode != 403 {
		t.Errorf("someone else deleting a comment: %d", r.StatusCode)
	}
	admin := newClient(t, b.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": b.AdminUser, "password": b.AdminPassword}), 200, nil)
	admin.must(admin.json("DELETE", fmt.Sprintf("/api/v1/comments/%d", beas.ID), nil), 204, nil)
}

// verifiedListen plays a track as a player does (a session, its segments
// fetched through the session, signed progress reports) until the node
// verifies the listen.
func verifiedListen(t *testing.T, c *client, tr track) {
	t.Helper()
	var s listen.Started
	c.must(c.json("POST", "/api/v1/listens", map[string]any{"track_id": tr.ID}), 201, &s)
	for _, seg := range variantSegments(t, c, tr.ID, "opus128") {
		r := c.do("GET", fmt.Sprintf("/media/tracks/%d/hls/opus128/%s", tr.ID, seg.URI), nil, http.Header{"X-Listen-Session": {s.SessionID}})
		if r.StatusCode != 200 {
			t.Fatalf("segment %s: %d", seg.URI, r.StatusCode)
		}
	}
	key := mustHex(t, s.Key)
	var seq int64
	// Real time must pass for a listen to count (the threshold is 2 s).
	eventually(t, 30*time.Second, "the listen being verified", func() bool {
		seq++
		r := listen.Report{Seq: seq, PositionMS: tr.DurationMS, HeardMS: tr.DurationMS}
		r.Sig = listen.Sign(key, s.SessionID, r)
		var out listen.Outcome
		c.must(c.json("POST", "/api/v1/listens/"+s.SessionID+"/progress", r), 200, &out)
		return out.Counted
	})
}

func TestListensAreSharedOnlyWhenTheListenerSaysSo(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation", "--listen-threshold", "2s")
	b := nodetest.Start(t, "--dev-federation")
	hostA := strings.TrimPrefix(a.URL, "http://")
	artist, _ := signupArtist(t, a.URL, "carla", "Carla Sings")
	tr := uploadTrack(t, artist, "Heard It Here")

	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	bea := newClient(t, b.URL)
	bea.must(bea.json("POST", "/api/v1/auth/signup", map[string]string{"username": "bea", "password": "password-bea"}), 201, nil)
	bea.must(bea.json("POST", "/api/v1/follows", map[string]string{"handle": "@ana@" + hostA}), 201, nil)
	eventually(t, 30*time.Second, "A accepting Bea's follow", func() bool {
		f := bea.follows()
		return len(f) == 1 && f[0].State == "accepted"
	})
	type friendListen struct {
		Actor         struct{ Handle string }
		Title, Artist string
		URL           string
	}
	var feed struct{ Items []friendListen }
	bea.must(bea.json("GET", "/api/v1/feed/listens", nil), 200, &feed)
	if len(feed.Items) != 0 {
		t.Fatalf("friends' listens before any: %+v", feed.Items)
	}

	// Sharing is off until Ana turns it on: this listen stays on A.
	var st struct {
		ShareListens bool `json:"share_listens"`
	}
	ana.must(ana.json("GET", "/api/v1/me/social", nil), 200, &st)
	if st.ShareListens {
		t.Fatal("listens are shared by default")
	}
	verifiedListen(t, ana, tr)
	ana.must(ana.json("PATCH", "/api/v1/me/social", map[string]bool{"share_listens": true}), 200, &st)
	if !st.ShareListens {
		t.Fatal("sharing did not turn on")
	}
	verifiedListen(t, ana, tr)
	eventually(t, 30*time.Second, "the shared listen reaching Bea", func() bool {
		bea.must(bea.json("GET", "/api/v1/feed/listens", nil), 200, &feed)
		return len(feed.Items) > 0
	})
	// Each listen is its own Listen: had the first been sent, it would have
	// been queued seconds before the second, and be here too.
	if len(feed.Items) != 1 {
		t.Fatalf("Bea sees %d listens, want the shared one only: %+v", len(feed.Items), feed.Items)
	}
	if it := feed.Items[0]; it.Actor.Handle != "ana@"+hostA || it.Title != "Heard It Here" || it.Artist != "Carla Sings" || it.URL != fmt.Sprintf("%s/app/tracks/%d", a.URL, tr.ID) {
		t.Errorf("the friend's listen: %+v", it)
	}
}

func TestFollowRequestsWaitForTheOwner(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostA := strings.TrimPrefix(a.URL, "http://")
	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	ana.must(ana.json("PATCH", "/api/v1/me/social", map[string]bool{"approve_followers": true}), 200, nil)
	if doc := ana.activity("/users/ana"); doc["manuallyApprovesFollowers"] != true {
		t.Errorf("Ana's actor: manuallyApprovesFollowers = %v", doc["manuallyApprovesFollowers"])
	}

	type request struct {
		ID    int64
		Actor struct{ ID, Handle string }
	}
	requests := func() []request {
		var list struct{ Items []request }
		ana.must(ana.json("GET", "/api/v1/follow-requests", nil), 200, &list)
		return list.Items
	}
	followers := func() any { return ana.activity("/users/ana/followers")["totalItems"] }
	ask := func(name string) *client {
		c := newClient(t, b.URL)
		c.must(c.json("POST", "/api/v1/auth/signup", map[string]string{"username": name, "password": "password-" + name}), 201, nil)
		c.must(c.json("POST", "/api/v1/follows", map[string]string{"handle": "@ana@" + hostA}), 201, nil)
		return c
	}
	cyd, dan := ask("cyd"), ask("dan")
	var reqs []request
	eventually(t, 30*time.Second, "both requests reaching Ana", func() bool {
		reqs = requests()
		return len(reqs) == 2
	})
	// They arrived, and A answered nothing: no follower yet, and the
	// requests stay pending on B.
	if n := followers(); n != float64(0) {
		t.Errorf("Ana has %v followers before answering", n)
	}
	for _, c := range []*client{cyd, dan} {
		if f := c.follows(); len(f) != 1 || f[0].State != "pending" {
			t.Errorf("a follow before the answer: %+v", f)
		}
	}
	byHandle := map[string]int64{}
	for _, r := range reqs {
		byHandle[r.Actor.Handle] = r.ID
	}
	hostB := strings.TrimPrefix(b.URL, "http://")
	ana.must(ana.json("POST", fmt.Sprintf("/api/v1/follow-requests/%d/accept", byHandle["cyd@"+hostB]), nil), 204, nil)
	ana.must(ana.json("POST", fmt.Sprintf("/api/v1/follow-requests/%d/reject", byHandle["dan@"+hostB]), nil), 204, nil)
	eventually(t, 30*time.Second, "the accept reaching Cyd", func() bool {
		f := cyd.follows()
		return len(f) == 1 && f[0].State == "accepted"
	})
	eventually(t, 30*time.Second, "the reject reaching Dan", func() bool { return len(dan.follows()) == 0 })
	if n := followers(); n != float64(1) {
		t.Errorf("Ana has %v followers, want Cyd", n)
	}
	if reqs := requests(); len(reqs) != 0 {
		t.Errorf("requests left: %+v", reqs)
	}
}

// TestBrowserLikesAndComments drives the web app: like a track on its page,
// post a comment (markup in it stays text), delete it, and turn on sharing
// of listens on the Following page.
func TestBrowserLikesAndComments(t *testing.T) {
	node := nodetest.Start(t)
	artist, _ := signupArtist(t, node.URL, "bela", "Bela Browser")
	tr := uploadTrack(t, artist, "Clicked Song")
	listener := newClient(t, node.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, node.Logs)
	goTo := func(path string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`history.pushState(null, '', %q); dispatchEvent(new PopStateEvent('popstate'))`, path), nil)
	}
	var counts, body string
	var markup int
	run(
		chromedp.Navigate(node.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "lena"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-lena"),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		goTo(fmt.Sprintf("/app/tracks/%d", tr.ID)),
		chromedp.WaitVisible(`[data-testid=like]`),
		chromedp.Click(`[data-testid=like]`),
		chromedp.Poll(`document.querySelector('[data-testid=like]').getAttribute('aria-pressed') === 'true'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text(`[data-testid=social-counts]`, &counts),
		chromedp.SendKeys(`[data-testid=comment-text]`, "<i>hi</i> there"),
		chromedp.Click(`[data-testid=comment-submit]`),
		chromedp.WaitVisible(`[data-testid=comment-body]`),
		chromedp.Text(`[data-testid=comment-body]`, &body),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid=comment-body] *').length`, &markup),
	)
	screenshot(t, run, "track-social.png")
	if !strings.Contains(counts, "1 like") || body != "<i>hi</i> there" || markup != 0 {
		t.Errorf("the page shows %q and the comment %q (%d elements in it)", counts, body, markup)
	}
	var ts trackSocial
	listener.must(listener.json("GET", fmt.Sprintf("/api/v1/tracks/%d/social", tr.ID), nil), 200, &ts)
	if !ts.Liked || ts.Likes != 1 || ts.Comments != 1 {
		t.Errorf("after the clicks: %+v", ts)
	}

	run(
		// The delete asks first.
		chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.Click(`[data-testid=comment-delete]`),
		chromedp.Poll(`document.querySelectorAll('[data-testid=comment]').length === 0`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		goTo("/app/following"),
		chromedp.WaitVisible(`[data-testid=share-listens]`),
		chromedp.Click(`[data-testid=share-listens]`),
	)
	screenshot(t, run, "following-social.png")
	eventually(t, 10*time.Second, "the click turning sharing on", func() bool {
		var st struct {
			ShareListens bool `json:"share_listens"`
		}
		listener.must(listener.json("GET", "/api/v1/me/social", nil), 200, &st)
		return st.ShareListens
	})
	listener.must(listener.json("GET", fmt.Sprintf("/api/v1/tracks/%d/social", tr.ID), nil), 200, &ts)
	if ts.Comments != 0 {
		t.Errorf("%d comments after deleting the one", ts.Comments)
	}
}

// screenshot keeps what the browser shows in NINETEN_SCREENSHOT_DIR, when set.
func screenshot(t *testing.T, run func(...chromedp.Action), name string) {
	t.Helper()
	dir := os.Getenv("NINETEN_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var shot []byte
	run(chromedp.FullScreenshot(&shot, 100))
	if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
		t.Error(err)
	}
}
