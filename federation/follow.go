package federation

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"

	nineten "nineten.dev"
)

var _ nineten.Federator = (*Service)(nil)

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var handleRE = regexp.MustCompile(`^@?([A-Za-z0-9_.\-]+)@([A-Za-z0-9.\-]+(:[0-9]+)?)$`)

// resolve turns @name@host, or an actor URL, into the actor's IRI.
func (f *Service) resolve(ctx context.Context, handle string) (string, error) {
	const op = "federation.resolve"
	handle = strings.TrimSpace(handle)
	if strings.HasPrefix(handle, "https://") || strings.HasPrefix(handle, "http://") {
		return handle, nil
	}
	m := handleRE.FindStringSubmatch(handle)
	if m == nil {
		return "", nineten.E(op, nineten.KindInvalid, "give a handle like @artist@music.example or an actor URL")
	}
	scheme := f.remoteScheme()
	if f.blocked(ctx, scheme+"://"+m[2]+"/") {
		return "", errBlocked(op, handle)
	}
	wf := fmt.Sprintf("%s://%s/.well-known/webfinger?resource=%s", scheme, m[2], url.QueryEscape("acct:"+m[1]+"@"+m[2]))
	var jrd struct {
		Links []struct{ Rel, Type, Href string }
	}
	if err := f.Client.GetJSON(ctx, wf, "application/jrd+json, application/json", nil, &jrd); err != nil {
		return "", nineten.E(op, "cannot look up "+handle, err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (l.Type == activityJSON || strings.HasPrefix(l.Type, "application/ld+json")) {
			return l.Href, nil
		}
	}
	return "", nineten.E(op, nineten.KindNotFound, handle+" has no ActivityPub actor")
}

// Follow sends a Follow from u to the actor handle names.
func (f *Service) Follow(ctx context.Context, u *nineten.User, handle string) (*nineten.Following, error) {
	const op = "federation.Follow"
	iri, err := f.resolve(ctx, handle)
	if err != nil {
		return nil, err
	}
	if _, local := f.localActor(ctx, iri); local {
		return nil, nineten.E(op, nineten.KindInvalid, "that actor is on this node: follow it here")
	}
	remote, err := f.RemoteActor(ctx, iri, true)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	me := f.url("/users/" + u.Username)
	fw := &nineten.Follow{Local: userActorName(u), Remote: iri, State: nineten.FollowPending, Activity: me + "#follows/" + randomID(), CreatedAt: f.now()}
	if err := f.Store.SaveFollow(ctx, fw); err != nil {
		return nil, nineten.E(op, err)
	}
	act := map[string]any{"@context": asContext, "id": fw.Activity, "type": "Follow", "actor": me, "object": iri}
	if err := f.deliver(ctx, fw.Local, act, remote.Inbox); err != nil {
		return nil, nineten.E(op, err)
	}
	return &nineten.Following{ID: fw.ID, Actor: *remote, State: fw.State, Since: fw.CreatedAt}, nil
}

// Unfollow withdraws one of u's follows and tells the remote server.
func (f *Service) Unfollow(ctx context.Context, u *nineten.User, id nineten.ID) error {
	const op = "federation.Unfollow"
	follows, err := f.Store.Follows(ctx, userActorName(u), false)
	if err != nil {
		return nineten.E(op, err)
	}
	for _, fw := range follows {
		if fw.ID != id {
			continue
		}
		if err := f.Store.DeleteFollow(ctx, fw.Local, fw.Remote, false); err != nil {
			return nineten.E(op, err)
		}
		remote, err := f.RemoteActor(ctx, fw.Remote, false)
		if err != nil {
			return nil // it is gone on our side; the remote server may be too
		}
		me := f.url("/users/" + u.Username)
		undo := map[string]any{
			"@context": asContext, "id": fw.Activity + "/undo", "type": "Undo", "actor": me,
			"object": map[string]any{"id": fw.Activity, "type": "Follow", "actor": me, "object": fw.Remote},
		}
		return f.deliver(ctx, fw.Local, undo, remote.Inbox)
	}
	return nineten.E(op, nineten.KindNotFound, fmt.Sprintf("you do not follow %d", id))
}

// Followings lists whom u follows on other servers.
func (f *Service) Followings(ctx context.Context, u *nineten.User) ([]nineten.Following, error) {
	follows, err := f.Store.Follows(ctx, userActorName(u), false)
	if err != nil {
		return nil, err
	}
	out := make([]nineten.Following, 0, len(follows))
	for _, fw := range follows {
		a, err := f.Store.RemoteActor(ctx, fw.Remote)
		if err != nil {
			a = &nineten.RemoteActor{IRI: fw.Remote}
		}
		out = append(out, nineten.Following{ID: fw.ID, Actor: *a, State: fw.State, Since: fw.CreatedAt})
	}
	return out, nil
}

// Feed lists what the actors u follows published, newest first.
func (f *Service) Feed(ctx context.Context, u *nineten.User, limit int) ([]nineten.FeedItem, error) {
	items, err := f.Store.Feed(ctx, userActorName(u), limit)
	if err != nil {
		return nil, err
	}
	out := make([]nineten.FeedItem, 0, len(items))
	for _, it := range items {
		var act struct {
			Object object `json:"object"`
		}
		_ = json.Unmarshal(it.Payload, &act)
		a, err := f.Store.RemoteActor(ctx, it.Actor)
		if err != nil {
			a = &nineten.RemoteActor{IRI: it.Actor}
		}
		out = append(out, feedItem(it, a, &act.Object))
	}
	return out, nil
}

// feedItem is what a follower is shown of a received activity: the
// object's title, its text, and the page to open.
func feedItem(it nineten.Received, a *nineten.RemoteActor, o *object) nineten.FeedItem {
	item := nineten.FeedItem{
		Type: it.Type, Actor: *a, Object: it.Object, URL: cmp.Or(o.URL.page(), it.Object),
		Title: o.Name, Text: plainText(o.Content), Published: it.ReceivedAt,
	}
	if item.Title == "" && o.Track == nil {
		// A post carrying a sound (a musician's on Mastodon, say) has the
		// sound's title in the attachment's name, its alt text. A 9ten
		// note (it names its track) says the title in its text already.
		if a, ok := o.firstAudio(); ok {
			item.Title = a.Name
		}
	}
	return item
}

// plainText reduces remote HTML to text: the web app shows it as text, so
// no remote markup ever reaches a page. Ends of paragraphs and line breaks
// become newlines; comments and what script and style elements hold are
// dropped; a ">" inside a quoted attribute value does not end its tag.
func plainText(markup string) string {
	var b strings.Builder
	for i := 0; i < len(markup); {
		if markup[i] != '<' || i+1 == len(markup) || !tagStart(markup[i+1]) {
			b.WriteByte(markup[i])
			i++
			continue
		}
		if strings.HasPrefix(markup[i:], "<!--") {
			end := strings.Index(markup[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := tagEnd(markup, i+1)
		name := tagName(markup[i+1 : end])
		i = end + 1
		switch name {
		case "br", "/p", "/div", "/li", "/blockquote", "/pre", "/h1", "/h2", "/h3", "/h4", "/h5", "/h6":
			b.WriteByte('\n')
		case "script", "style":
			if j := strings.Index(strings.ToLower(markup[i:]), "</"+name); j >= 0 {
				i += j
			} else {
				i = len(markup)
			}
		}
	}
	t := strings.TrimSpace(html.UnescapeString(b.String()))
	for strings.Contains(t, "\n\n\n") {
		t = strings.ReplaceAll(t, "\n\n\n", "\n\n")
	}
	return t
}

// tagStart reports whether c, after a "<", starts a tag (or a comment, a
// doctype, a processing instruction) rather than being text.
func tagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// tagEnd returns the index of the ">" that ends the tag starting at i,
// skipping quoted attribute values, or len(s) when it never ends.
func tagEnd(s string, i int) int {
	var quote byte
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return len(s)
}

// tagName is the lower-case name of a tag, "/" first for an end tag.
func tagName(tag string) string {
	end := 0
	if strings.HasPrefix(tag, "/") {
		end = 1
	}
	for end < len(tag) && (tag[end] >= 'a' && tag[end] <= 'z' || tag[end] >= 'A' && tag[end] <= 'Z' || tag[end] >= '0' && tag[end] <= '9') {
		end++
	}
	return strings.ToLower(tag[:end])
}
