package federation

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

const activityJSON = "application/activity+json"

// wantsActivity reports whether the client asked for ActivityStreams
// rather than a web page: application/activity+json, or application/ld+json
// (with the AS profile or none, as Mastodon and PeerTube send).
func wantsActivity(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == activityJSON || mt == "application/ld+json" && (params["profile"] == "" || strings.Contains(params["profile"], "activitystreams")) {
			return true
		}
	}
	return false
}

func writeActivity(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", activityJSON)
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_ = json.NewEncoder(w).Encode(v)
}

// problem answers an RFC 9457 problem document, as the rest of the node does.
func problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail, "instance": r.URL.Path,
	})
}

func (f *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		problem(w, r, http.StatusNotFound, nineten.ErrorMessage(err))
		return
	}
	f.Log.ErrorContext(r.Context(), "federation request failed", "path", r.URL.Path, "err", err)
	problem(w, r, http.StatusInternalServerError, "something went wrong on the node")
}

// webfinger answers acct:name@host (users and artists share the
// namespace) and actor URLs.
func (f *Service) webfinger(w http.ResponseWriter, r *http.Request) {
	res := r.URL.Query().Get("resource")
	var name string
	switch {
	case strings.HasPrefix(res, "acct:"):
		user, host, ok := strings.Cut(strings.TrimPrefix(res, "acct:"), "@")
		if !ok || !strings.EqualFold(host, f.Base.Host) {
			problem(w, r, http.StatusNotFound, fmt.Sprintf("%s is not an account of %s", res, f.Base.Host))
			return
		}
		name = strings.ToLower(strings.TrimPrefix(user, "@"))
	case strings.HasPrefix(res, f.url("/users/")):
		name = strings.TrimPrefix(res, f.url("/users/"))
	case strings.HasPrefix(res, f.url("/artists/")):
		name = strings.TrimPrefix(res, f.url("/artists/"))
	case res == f.url("/actor"):
		name = f.Base.Host
	default:
		problem(w, r, http.StatusBadRequest, "give a resource: acct:name@"+f.Base.Host+" or an actor URL")
		return
	}
	id, page, avatar, err := f.lookupActor(r, name)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	links := []any{
		map[string]any{"rel": "self", "type": activityJSON, "href": id},
		map[string]any{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
	}
	if avatar != "" {
		// As Mastodon's WebFinger gives it, for clients that show a
		// handle's picture before they fetch the actor.
		links = append(links, map[string]any{"rel": "http://webfinger.net/rel/avatar", "type": pictureType(avatar), "href": f.url("/media/" + avatar)})
	}
	w.Header().Set("Content-Type", "application/jrd+json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"subject": "acct:" + name + "@" + f.Base.Host,
		"aliases": []string{id, page},
		"links":   links,
	})
}

// lookupActor finds the actor a handle names: a user, else an artist, or
// the node itself under its host name; avatar is the blob key of its
// avatar, "" for none.
func (f *Service) lookupActor(r *http.Request, name string) (id, page, avatar string, err error) {
	if name == f.Base.Host {
		return f.url("/actor"), f.url("/"), "", nil
	}
	if u, err := f.Store.UserByUsername(r.Context(), name); err == nil && !u.Disabled {
		return f.url("/users/" + u.Username), f.url("/"), u.Avatar, nil
	}
	a, err := f.Store.ArtistBySlug(r.Context(), name)
	if err != nil || a.Deleted() {
		return "", "", "", nineten.E("federation.lookupActor", nineten.KindNotFound, "no account "+name+" on "+f.Base.Host)
	}
	return f.url("/artists/" + a.Slug), f.url(fmt.Sprintf("/app/artists/%d", a.ID)), a.Avatar, nil
}

type xrdLink struct {
	Rel      string `xml:"rel,attr"`
	Template string `xml:"template,attr"`
}

func (f *Service) hostMeta(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xrd+xml")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name  `xml:"XRD"`
		NS      string    `xml:"xmlns,attr"`
		Links   []xrdLink `xml:"Link"`
	}{NS: "http://docs.oasis-open.org/ns/xri/xrd-1.0", Links: []xrdLink{
		{Rel: "lrdd", Template: f.url("/.well-known/webfinger") + "?resource={uri}"},
	}})
}

func (f *Service) nodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(map[string]any{"links": []any{map[string]any{
		"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": f.url("/nodeinfo/2.1"),
	}}})
}

// nodeInfo is NodeInfo 2.1: software, protocols and usage counts.
func (f *Service) nodeInfo(w http.ResponseWriter, r *http.Request) {
	users, err := f.Store.CountUsers(r.Context())
	if err != nil {
		f.fail(w, r, err)
		return
	}
	_, tracks, err := f.Store.ListTracks(r.Context(), nineten.TrackFilter{}, nineten.Page{Limit: 1})
	if err != nil {
		f.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"version": "2.1",
		"software": map[string]any{
			"name": "9ten", "version": f.Version, "homepage": f.url("/"),
		},
		"protocols":         []string{"activitypub"},
		"services":          map[string]any{"inbound": []string{}, "outbound": []string{}},
		"openRegistrations": true,
		"usage": map[string]any{
			"users":      map[string]any{"total": users},
			"localPosts": tracks,
		},
		"metadata": map[string]any{"nodeName": f.Base.Host},
	})
}

func (f *Service) contextDoc(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/ld+json")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(map[string]any{"@context": terms})
}

// redirectToApp sends browsers to the web app's page for a federation URL.
func redirectToApp(w http.ResponseWriter, r *http.Request, page string) {
	w.Header().Set("Vary", "Accept")
	http.Redirect(w, r, page, http.StatusSeeOther)
}

func (f *Service) nodeActor(w http.ResponseWriter, r *http.Request) {
	if !wantsActivity(r) {
		redirectToApp(w, r, "/")
		return
	}
	k, err := f.Keys(r.Context(), nodeActorName)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	host := f.Base.Host
	doc := f.actorDoc(f.url("/actor"), "Application", "node", host, "9ten node "+host,
		"The 9ten node at "+host+": it signs reports, settlements and disputes for its listeners and artists.", f.url("/"), time.Time{}, k)
	doc["icon"] = map[string]any{"type": "Image", "mediaType": "image/png", "url": f.url(nodeIconPath)}
	f.nodeReportProperties(doc)
	writeActivity(w, doc)
}

func (f *Service) userActor(w http.ResponseWriter, r *http.Request) {
	u, err := f.Store.UserByUsername(r.Context(), r.PathValue("name"))
	if err == nil && u.Deleted() {
		gone(w, r, f.url("/users/"+u.Username), "Person", u.DeletedAt)
		return
	}
	if err != nil || u.Disabled {
		problem(w, r, http.StatusNotFound, "no such user")
		return
	}
	if !wantsActivity(r) {
		redirectToApp(w, r, "/")
		return
	}
	doc, err := f.userDoc(r.Context(), u)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	writeActivity(w, doc)
}

// artistActor serves an artist profile. Artists are Person actors: they
// publish like accounts do, while Group carries forum semantics (FEP-1b12:
// members' posts re-announced by the group) that do not fit a musician.
func (f *Service) artistActor(w http.ResponseWriter, r *http.Request) {
	a, err := f.Store.ArtistBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	if a.Deleted() {
		gone(w, r, f.url("/artists/"+a.Slug), "Person", a.DeletedAt)
		return
	}
	if !wantsActivity(r) {
		redirectToApp(w, r, fmt.Sprintf("/app/artists/%d", a.ID))
		return
	}
	doc, err := f.artistDoc(r.Context(), a)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	writeActivity(w, doc)
}

// outboxPageSize is how many activities one outbox page holds.
const outboxPageSize = 20

// artistOutbox lists Create activities of the artist's tracks, newest first.
func (f *Service) artistOutbox(w http.ResponseWriter, r *http.Request) {
	a, err := f.Store.ArtistBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	id := f.url("/artists/" + a.Slug + "/outbox")
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		_, total, err := f.Store.ListTracks(r.Context(), nineten.TrackFilter{ArtistID: a.ID}, nineten.Page{Limit: 1})
		if err != nil {
			f.fail(w, r, err)
			return
		}
		writeActivity(w, map[string]any{"@context": contexts, "id": id, "type": "OrderedCollection", "totalItems": total, "first": id + "?page=1"})
		return
	}
	tracks, total, err := f.Store.ListTracks(r.Context(), nineten.TrackFilter{ArtistID: a.ID}, nineten.Page{Limit: outboxPageSize, Offset: (n - 1) * outboxPageSize})
	if err != nil {
		f.fail(w, r, err)
		return
	}
	items := make([]any, 0, len(tracks))
	for i := range tracks {
		obj := f.trackObject(&tracks[i], a)
		items = append(items, map[string]any{
			"id": obj["id"].(string) + "/activity", "type": "Create", "actor": obj["attributedTo"],
			"published": obj["published"], "to": obj["to"], "cc": obj["cc"], "object": obj,
		})
	}
	pageDoc := map[string]any{
		"@context": contexts, "id": fmt.Sprintf("%s?page=%d", id, n), "type": "OrderedCollectionPage",
		"partOf": id, "totalItems": total, "orderedItems": items,
	}
	if n*outboxPageSize < total {
		pageDoc["next"] = fmt.Sprintf("%s?page=%d", id, n+1)
	}
	writeActivity(w, pageDoc)
}

// track serves a track as an Audio object; browsers get its page.
func (f *Service) track(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		problem(w, r, http.StatusNotFound, "no such track")
		return
	}
	t, err := f.Store.TrackByID(r.Context(), nineten.ID(id))
	if err != nil || !t.Visible() {
		problem(w, r, http.StatusNotFound, "no such track")
		return
	}
	if !wantsActivity(r) {
		redirectToApp(w, r, fmt.Sprintf("/app/tracks/%d", t.ID))
		return
	}
	a, err := f.Store.ArtistByID(r.Context(), t.ArtistID)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	obj := f.trackObject(t, a)
	obj["@context"] = contexts
	writeActivity(w, obj)
}

// followersCollection counts an actor's followers; who they are is not
// published (as Mastodon hides follower lists by default).
func (f *Service) followersCollection(w http.ResponseWriter, r *http.Request) {
	f.countCollection(w, r, true)
}

// followingCollection counts whom an actor follows.
func (f *Service) followingCollection(w http.ResponseWriter, r *http.Request) {
	f.countCollection(w, r, false)
}

func (f *Service) countCollection(w http.ResponseWriter, r *http.Request, inbound bool) {
	actorIRI := f.url(strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/followers"), "/following"))
	name, ok := f.localActor(r.Context(), actorIRI)
	if !ok && actorIRI == f.url("/actor") {
		name, ok = nodeActorName, true
	}
	if !ok {
		problem(w, r, http.StatusNotFound, "no such actor")
		return
	}
	follows, err := f.Store.Follows(r.Context(), name, inbound)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	n := 0
	for _, fw := range follows {
		if fw.State == nineten.FollowAccepted {
			n++
		}
	}
	writeActivity(w, map[string]any{"@context": asContext, "id": f.url(r.URL.Path), "type": "OrderedCollection", "totalItems": n})
}

// emptyCollection serves outboxes of actors that publish nothing.
func (f *Service) emptyCollection(w http.ResponseWriter, r *http.Request) {
	writeActivity(w, map[string]any{"@context": asContext, "id": f.url(r.URL.Path), "type": "OrderedCollection", "totalItems": 0, "orderedItems": []any{}})
}
