package server

import (
	"net/http"
	"strconv"
	"time"

	nineten "nineten.dev"
	"nineten.dev/internal/ratelimit"
)

// Likes, boosts and comments of tracks (here and on other servers), the
// listens friends share, social settings and follow requests.

type trackSocialJSON struct {
	Likes    int  `json:"likes"`
	Boosts   int  `json:"boosts"`
	Comments int  `json:"comments"`
	Liked    bool `json:"liked"`
	Boosted  bool `json:"boosted"`
}

func toTrackSocial(t *nineten.TrackSocial) trackSocialJSON {
	return trackSocialJSON{t.Likes, t.Boosts, t.Comments, t.Liked, t.Boosted}
}

// commentAuthorJSON is who wrote a comment: a user of this node (user_id
// set) or an actor elsewhere (actor set).
type commentAuthorJSON struct {
	UserID nineten.ID `json:"user_id,omitempty"`
	Actor  string     `json:"actor,omitempty"`
	Name   string     `json:"name"`
	Handle string     `json:"handle"`
	// AvatarURL is the author's avatar: here, or on their server.
	AvatarURL string `json:"avatar_url,omitempty"`
}

type commentJSON struct {
	ID nineten.ID `json:"id"`
	// TrackID is the track here, or zero; TrackIRI the track elsewhere.
	TrackID   nineten.ID        `json:"track_id,omitempty"`
	TrackIRI  string            `json:"track_iri,omitempty"`
	Text      string            `json:"text"`
	Author    commentAuthorJSON `json:"author"`
	Remote    bool              `json:"remote"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func toComment(c *nineten.Comment) commentJSON {
	return commentJSON{
		ID: c.ID, TrackID: c.Track.ID, TrackIRI: c.Track.IRI, Text: c.Text, Remote: c.UserID == 0,
		Author:    commentAuthorJSON{UserID: c.UserID, Actor: c.Actor, Name: c.AuthorName, Handle: c.AuthorHandle, AvatarURL: commentPicture(c)},
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// commentPicture is where a comment's author's avatar is served.
func commentPicture(c *nineten.Comment) string {
	if c.UserID == 0 {
		return c.AuthorPicture
	}
	if u := pictureURL(c.AuthorPicture); u != nil {
		return *u
	}
	return ""
}

type commentPage struct {
	Items []commentJSON `json:"items"`
	Total int           `json:"total"`
}

type commentInput struct {
	Text string `json:"text"`
}

type remoteCommentInput struct {
	IRI  string `json:"iri"`
	Text string `json:"text"`
}

type remoteReactionInput struct {
	IRI    string `json:"iri"`
	Kind   string `json:"kind"`   // like or boost
	Active bool   `json:"active"` // true to like or boost, false to take it back
}

type remoteReactionJSON struct {
	IRI       string    `json:"iri"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

type remoteReactionList struct {
	Items []remoteReactionJSON `json:"items"`
}

type friendListenJSON struct {
	Actor      remoteActorJSON `json:"actor"`
	Object     string          `json:"object"`
	Title      string          `json:"title"`
	Artist     string          `json:"artist"`
	URL        string          `json:"url"`
	ListenedAt time.Time       `json:"listened_at"`
}

type friendListenList struct {
	Items []friendListenJSON `json:"items"`
}

type artistSettingsJSON struct {
	ArtistID         nineten.ID `json:"artist_id"`
	Name             string     `json:"name"`
	ApproveFollowers bool       `json:"approve_followers"`
}

type socialSettingsJSON struct {
	ShareListens     bool                 `json:"share_listens"`
	ApproveFollowers bool                 `json:"approve_followers"`
	Artists          []artistSettingsJSON `json:"artists"`
}

// socialSettingsInput changes what it names; artists not named keep theirs.
type socialSettingsInput struct {
	ShareListens     *bool                     `json:"share_listens,omitempty"`
	ApproveFollowers *bool                     `json:"approve_followers,omitempty"`
	Artists          []artistSettingsInputJSON `json:"artists,omitempty"`
}

type artistSettingsInputJSON struct {
	ArtistID         nineten.ID `json:"artist_id"`
	ApproveFollowers bool       `json:"approve_followers"`
}

type followRequestJSON struct {
	ID    nineten.ID      `json:"id"`
	Actor remoteActorJSON `json:"actor"`
	// ArtistID is the artist profile asked to be followed, or zero for
	// you; Name is its name (or your username).
	ArtistID nineten.ID `json:"artist_id,omitempty"`
	Name     string     `json:"name"`
	Since    time.Time  `json:"since"`
}

type followRequestList struct {
	Items []followRequestJSON `json:"items"`
}

func toSocialSettings(s *nineten.SocialSettings) socialSettingsJSON {
	out := socialSettingsJSON{ShareListens: s.ShareListens, ApproveFollowers: s.ManualApproval, Artists: []artistSettingsJSON{}}
	for _, a := range s.Artists {
		out.Artists = append(out.Artists, artistSettingsJSON{a.ArtistID, a.Name, a.ManualApproval})
	}
	return out
}

// socialLimits pace, per user, what sends activities to other servers:
// each comment, like or boost is a delivery to every follower's server.
type socialLimits struct {
	comments, reactions *ratelimit.Limiter
}

func newSocialLimits() socialLimits {
	return socialLimits{
		// Five comments at once, then one every 20 s: a conversation,
		// not a flood.
		comments:  &ratelimit.Limiter{Burst: 5, Interval: 20 * time.Second},
		reactions: &ratelimit.Limiter{Burst: 30, Interval: 2 * time.Second},
	}
}

// socialFor returns the logged-in user (nil when anonymous and optional)
// and the node's social side.
func (s *Server) socialFor(r *http.Request, optional bool) (*nineten.User, nineten.Social, error) {
	u, err := s.viewer(r)
	if err != nil {
		return nil, nil, err
	}
	if u == nil && !optional {
		return nil, nil, nineten.E("server.social", nineten.KindUnauthenticated, "log in first")
	}
	if s.Social == nil {
		return nil, nil, nineten.E("server.social", nineten.KindUnavailable, "likes and comments are not enabled on this node")
	}
	return u, s.Social, nil
}

// paced answers 429 when u has used up l; it reports whether to go on.
func paced(w http.ResponseWriter, r *http.Request, l *ratelimit.Limiter, u *nineten.User, what string) bool {
	ok, wait := l.Allow(strconv.FormatInt(int64(u.ID), 10), time.Now())
	if !ok {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeProblem(w, r, http.StatusTooManyRequests, "you "+what+" too often; try again in "+strconv.Itoa(secs)+" s")
	}
	return ok
}

func (s *Server) trackSocial(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, true)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ts, err := soc.TrackSocial(r.Context(), u, nineten.TrackRef{ID: id})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTrackSocial(ts))
	return nil
}

// react likes or boosts a track here (on), or takes it back.
func (s *Server) react(l *ratelimit.Limiter, kind nineten.ReactionKind, on bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, soc, err := s.socialFor(r, false)
		if err != nil {
			return err
		}
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if !paced(w, r, l, u, "like and boost") {
			return nil
		}
		return reactAndAnswer(w, r, soc, u, nineten.TrackRef{ID: id}, kind, on)
	}
}

func reactAndAnswer(w http.ResponseWriter, r *http.Request, soc nineten.Social, u *nineten.User, t nineten.TrackRef, kind nineten.ReactionKind, on bool) error {
	var err error
	if on {
		err = soc.React(r.Context(), u, t, kind)
	} else {
		err = soc.Unreact(r.Context(), u, t, kind)
	}
	if err != nil {
		return err
	}
	ts, err := soc.TrackSocial(r.Context(), u, t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTrackSocial(ts))
	return nil
}

func (s *Server) remoteReact(l *ratelimit.Limiter) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, soc, err := s.socialFor(r, false)
		if err != nil {
			return err
		}
		var in remoteReactionInput
		if err := readJSON(w, r, &in); err != nil {
			return err
		}
		kind := nineten.ReactionKind(in.Kind)
		if !kind.Valid() || in.IRI == "" {
			return nineten.E("server.remoteReact", nineten.KindInvalid, `give the track's "iri" and a "kind": like or boost`)
		}
		if !paced(w, r, l, u, "like and boost") {
			return nil
		}
		return reactAndAnswer(w, r, soc, u, nineten.TrackRef{IRI: in.IRI}, kind, in.Active)
	}
}

func (s *Server) remoteReactions(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, false)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	rs, err := soc.RemoteReactions(r.Context(), u, limit)
	if err != nil {
		return err
	}
	out := remoteReactionList{Items: []remoteReactionJSON{}}
	for _, rc := range rs {
		out.Items = append(out.Items, remoteReactionJSON{IRI: rc.Track.IRI, Kind: string(rc.Kind), CreatedAt: rc.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) error {
	_, soc, err := s.socialFor(r, true)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	list, total, err := soc.Comments(r.Context(), id, p)
	if err != nil {
		return err
	}
	out := commentPage{Items: []commentJSON{}, Total: total}
	for i := range list {
		out.Items = append(out.Items, toComment(&list[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// postComment comments on a track here (by the id in the path) or, when
// remote is set, elsewhere (by the IRI in the body).
func (s *Server) postComment(l *ratelimit.Limiter, remote bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, soc, err := s.socialFor(r, false)
		if err != nil {
			return err
		}
		var t nineten.TrackRef
		var text string
		if remote {
			var in remoteCommentInput
			if err := readJSON(w, r, &in); err != nil {
				return err
			}
			t.IRI, text = in.IRI, in.Text
		} else {
			if t.ID, err = pathID(r, "id"); err != nil {
				return err
			}
			var in commentInput
			if err := readJSON(w, r, &in); err != nil {
				return err
			}
			text = in.Text
		}
		if !paced(w, r, l, u, "comment") {
			return nil
		}
		c, err := soc.Comment(r.Context(), u, t, text)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, toComment(c))
		return nil
	}
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, false)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := soc.DeleteComment(r.Context(), u, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) friendListens(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, false)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	items, err := soc.FriendListens(r.Context(), u, limit)
	if err != nil {
		return err
	}
	out := friendListenList{Items: []friendListenJSON{}}
	for _, it := range items {
		out.Items = append(out.Items, friendListenJSON{
			Actor: toRemoteActor(&it.Actor), Object: it.Object, Title: it.Title, Artist: it.Artist, URL: it.URL, ListenedAt: it.ListenedAt,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) socialSettings(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, false)
	if err != nil {
		return err
	}
	st, err := soc.SocialSettings(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSocialSettings(st))
	return nil
}

func (s *Server) patchSocialSettings(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, false)
	if err != nil {
		return err
	}
	var in socialSettingsInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	st, err := soc.SocialSettings(r.Context(), u)
	if err != nil {
		return err
	}
	if in.ShareListens != nil {
		st.ShareListens = *in.ShareListens
	}
	if in.ApproveFollowers != nil {
		st.ManualApproval = *in.ApproveFollowers
	}
	for _, a := range in.Artists {
		found := false
		for i := range st.Artists {
			if st.Artists[i].ArtistID == a.ArtistID {
				st.Artists[i].ManualApproval, found = a.ApproveFollowers, true
			}
		}
		if !found {
			// The social side says whose it is.
			st.Artists = append(st.Artists, nineten.ArtistSettings{ArtistID: a.ArtistID, ManualApproval: a.ApproveFollowers})
		}
	}
	if st, err = soc.UpdateSocialSettings(r.Context(), u, *st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSocialSettings(st))
	return nil
}

func (s *Server) followRequests(w http.ResponseWriter, r *http.Request) error {
	u, soc, err := s.socialFor(r, false)
	if err != nil {
		return err
	}
	reqs, err := soc.FollowRequests(r.Context(), u)
	if err != nil {
		return err
	}
	out := followRequestList{Items: []followRequestJSON{}}
	for _, fr := range reqs {
		out.Items = append(out.Items, followRequestJSON{ID: fr.ID, Actor: toRemoteActor(&fr.Actor), ArtistID: fr.ArtistID, Name: fr.Name, Since: fr.Since})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// answerFollowRequest accepts or rejects a follow request.
func (s *Server) answerFollowRequest(accept bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, soc, err := s.socialFor(r, false)
		if err != nil {
			return err
		}
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := soc.AnswerFollowRequest(r.Context(), u, id, accept); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// socialRoutes are the routes of this file, for the route table.
func (s *Server) socialRoutes() []route {
	lim := newSocialLimits()
	page := []string{"limit", "offset"}
	return []route{
		{Method: "GET", Path: "/api/v1/tracks/{id}/social", Summary: "Likes, boosts and comments of a track, and whether you liked or boosted it", Tag: "social", Status: 200, Resp: trackSocialJSON{}, handle: s.trackSocial},
		{Method: "PUT", Path: "/api/v1/tracks/{id}/like", Summary: "Like a track", Tag: "social", Auth: "user", Status: 200, Resp: trackSocialJSON{}, handle: s.react(lim.reactions, nineten.ReactionLike, true)},
		{Method: "DELETE", Path: "/api/v1/tracks/{id}/like", Summary: "Take back your like", Tag: "social", Auth: "user", Status: 200, Resp: trackSocialJSON{}, handle: s.react(lim.reactions, nineten.ReactionLike, false)},
		{Method: "PUT", Path: "/api/v1/tracks/{id}/boost", Summary: "Boost a track: share it with your followers", Tag: "social", Auth: "user", Status: 200, Resp: trackSocialJSON{}, handle: s.react(lim.reactions, nineten.ReactionBoost, true)},
		{Method: "DELETE", Path: "/api/v1/tracks/{id}/boost", Summary: "Take back your boost", Tag: "social", Auth: "user", Status: 200, Resp: trackSocialJSON{}, handle: s.react(lim.reactions, nineten.ReactionBoost, false)},
		{Method: "GET", Path: "/api/v1/tracks/{id}/comments", Summary: "Comments on a track, newest first", Tag: "social", Query: page, Status: 200, Resp: commentPage{}, handle: s.listComments},
		{Method: "POST", Path: "/api/v1/tracks/{id}/comments", Summary: "Comment on a track (plain text)", Tag: "social", Auth: "user", Body: commentInput{}, Status: 201, Resp: commentJSON{}, handle: s.postComment(lim.comments, false)},
		{Method: "DELETE", Path: "/api/v1/comments/{id}", Summary: "Delete a comment (its author, or an admin)", Tag: "social", Auth: "user", Status: 204, handle: s.deleteComment},
		{Method: "PUT", Path: "/api/v1/remote/reactions", Summary: "Like or boost a track on another server, or take it back", Tag: "social", Auth: "user", Body: remoteReactionInput{}, Status: 200, Resp: trackSocialJSON{}, handle: s.remoteReact(lim.reactions)},
		{Method: "POST", Path: "/api/v1/remote/comments", Summary: "Comment on a track on another server", Tag: "social", Auth: "user", Body: remoteCommentInput{}, Status: 201, Resp: commentJSON{}, handle: s.postComment(lim.comments, true)},
		{Method: "GET", Path: "/api/v1/me/remote-reactions", Summary: "Your likes and boosts of tracks on other servers", Tag: "social", Auth: "user", Query: []string{"limit"}, Status: 200, Resp: remoteReactionList{}, handle: s.remoteReactions},
		{Method: "GET", Path: "/api/v1/feed/listens", Summary: "What the people you follow played (those who share it)", Tag: "federation", Auth: "user", Query: []string{"limit"}, Status: 200, Resp: friendListenList{}, handle: s.friendListens},
		{Method: "GET", Path: "/api/v1/me/social", Summary: "Your social settings: sharing your listens, approving followers (also of your artist profiles)", Tag: "federation", Auth: "user", Status: 200, Resp: socialSettingsJSON{}, handle: s.socialSettings},
		{Method: "PATCH", Path: "/api/v1/me/social", Summary: "Change your social settings", Tag: "federation", Auth: "user", Body: socialSettingsInput{}, Status: 200, Resp: socialSettingsJSON{}, handle: s.patchSocialSettings},
		{Method: "GET", Path: "/api/v1/follow-requests", Summary: "Who asks to follow you or your artist profiles", Tag: "federation", Auth: "user", Status: 200, Resp: followRequestList{}, handle: s.followRequests},
		{Method: "POST", Path: "/api/v1/follow-requests/{id}/accept", Summary: "Let them follow", Tag: "federation", Auth: "user", Status: 204, handle: s.answerFollowRequest(true)},
		{Method: "POST", Path: "/api/v1/follow-requests/{id}/reject", Summary: "Refuse the follow request", Tag: "federation", Auth: "user", Status: 204, handle: s.answerFollowRequest(false)},
	}
}
