package federation

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
)

// maxInbox bounds an inbox delivery, as Mastodon does (1 MB).
const maxInbox = 1 << 20

// activity is the envelope of an inbound activity; object may be an IRI,
// an embedded object, or several of either.
type activity struct {
	ID     string
	Type   string // the first of its types
	Actor  string
	Object json.RawMessage
}

// ref is an object given either as an IRI or embedded.
type ref struct {
	ID     string
	Type   string
	Actor  string
	Object json.RawMessage
}

// envelope reads the parts of an activity or object that the inbox uses,
// in any of the forms servers write them (see wire.go).
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Type   types           `json:"type"`
	Actor  iris            `json:"actor"`
	Object json.RawMessage `json:"object"`
}

// parseRefs reads the objects of an activity: one or several, each given
// by its IRI or embedded. Funkwhale deletes several uploads at once as one
// object whose id is a list; that reads as one object per id.
func parseRefs(raw json.RawMessage) []ref {
	var refs []ref
	eachItem(raw, func(item json.RawMessage) {
		var iri string
		if json.Unmarshal(item, &iri) == nil {
			refs = append(refs, ref{ID: iri})
			return
		}
		var e envelope
		if json.Unmarshal(item, &e) != nil {
			return
		}
		var ids iris
		_ = ids.UnmarshalJSON(e.ID)
		for _, id := range ids {
			refs = append(refs, ref{ID: id, Type: e.Type.main(), Actor: e.Actor.first(), Object: e.Object})
		}
		if len(ids) == 0 {
			refs = append(refs, ref{Type: e.Type.main(), Actor: e.Actor.first(), Object: e.Object})
		}
	})
	return refs
}

// parseRef reads the one object of an activity; several read as none.
func parseRef(raw json.RawMessage) ref {
	if refs := parseRefs(raw); len(refs) == 1 {
		return refs[0]
	}
	return ref{}
}

// inbox receives a delivery: the signature must verify and belong to the
// actor the activity names.
func (f *Service) inbox(w http.ResponseWriter, r *http.Request) {
	if ok, wait := f.allowDelivery(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		problem(w, r, http.StatusTooManyRequests, "too many deliveries from your address; retry later")
		return
	}
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != activityJSON && !(mt == "application/ld+json" && params["profile"] != "") {
		problem(w, r, http.StatusUnsupportedMediaType, "deliver activities as application/activity+json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInbox))
	if err != nil {
		problem(w, r, http.StatusRequestEntityTooLarge, "activities are limited to 1 MB")
		return
	}
	act := act0(body)
	owner, err := f.verify(r, body)
	if err != nil {
		if act.Type == "Delete" && nineten.ErrorKind(err) == nineten.KindNotFound {
			// The signer's actor is gone (its server answers 404 or 410)
			// and this node knew nothing of it, or forgot it already: so
			// is what it deletes. Nothing to do, and the sender need not
			// retry (Mastodon does the same).
			w.WriteHeader(http.StatusAccepted)
			return
		}
		f.refuse(w, r, err)
		return
	}
	sig := signatureOf(r)
	if f.replays.seen(sig, f.now()) {
		problem(w, r, http.StatusUnauthorized, "this signed request was delivered already; sign each delivery afresh")
		return
	}
	f.hostAlive(r.Context(), hostOf(owner))
	if act.Type == "" || act.Actor == "" {
		problem(w, r, http.StatusBadRequest, "the body is not an activity with a type and an actor")
		return
	}
	if act.Actor != owner {
		problem(w, r, http.StatusUnauthorized, fmt.Sprintf("the request is signed by %s but the activity claims to be by %s", owner, act.Actor))
		return
	}
	if err := f.receive(r.Context(), &act, body); err != nil {
		switch nineten.ErrorKind(err) {
		case nineten.KindInvalid, nineten.KindUnsupported, nineten.KindNotFound, nineten.KindPermission:
			problem(w, r, http.StatusUnprocessableEntity, nineten.ErrorMessage(err))
		case nineten.KindConflict:
			problem(w, r, http.StatusConflict, nineten.ErrorMessage(err))
		default:
			f.fail(w, r, err)
		}
		return
	}
	f.replays.accepted(sig, f.now())
	w.WriteHeader(http.StatusAccepted)
}

func (f *Service) allowDelivery(r *http.Request) (bool, time.Duration) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return f.inboxLimit.Allow(host, f.now())
}

// verify checks a request's HTTP signature and returns the actor that
// made it: the owner of the key that verified.
func (f *Service) verify(r *http.Request, body []byte) (string, error) {
	blocked, gone := "", ""
	v := httpsig.Verifier{
		Now:    f.now,
		Scheme: f.Base.Scheme,
		Lookup: func(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
			if f.blocked(ctx, keyID) {
				// Refused before anything is fetched from a blocked server.
				blocked = keyID
				return nil, errBlocked("federation.verify", keyID)
			}
			_, pub, err := f.keyOwner(ctx, keyID, refresh)
			if nineten.ErrorKind(err) == nineten.KindNotFound {
				gone = keyID
			}
			return pub, err
		},
	}
	keyID, err := v.Verify(r.Context(), r, body)
	if blocked != "" {
		return "", errBlocked("federation.verify", blocked)
	}
	if err != nil && gone != "" {
		// Its server has no such key or actor (any more): see inbox.
		return "", nineten.E("federation.verify", nineten.KindNotFound, "the key "+gone+" is gone from its server", err)
	}
	if err != nil {
		return "", err
	}
	// The key that verified is in the store now, with its owner.
	owner, _, err := f.keyOwner(r.Context(), keyID, false)
	return owner, err
}

// refuse answers a request whose signature did not verify: 401, 403 for
// a blocked server, or 503 when the signer's server could not be reached
// (the sender retries).
func (f *Service) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusUnauthorized
	switch nineten.ErrorKind(err) {
	case nineten.KindUnavailable:
		status = http.StatusServiceUnavailable
	case nineten.KindPermission:
		status = http.StatusForbidden
	}
	problem(w, r, status, nineten.ErrorMessage(err))
}

// signedFetch requires, in authorized-fetch mode, that requests for
// ActivityStreams documents be signed by some actor, so that the node
// knows (and can refuse) who reads what it publishes. Browsers, which get
// web pages, are not affected.
func (f *Service) signedFetch(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.AuthorizedFetch && wantsActivity(r) {
			if _, err := f.verify(r, nil); err != nil {
				f.refuse(w, r, err)
				return
			}
		}
		h(w, r)
	}
}

// act0 parses the envelope of an activity; a body that is not one parses
// as an empty activity.
func act0(body []byte) activity {
	var e envelope
	if json.Unmarshal(body, &e) != nil {
		return activity{}
	}
	var id string
	_ = json.Unmarshal(e.ID, &id)
	return activity{ID: id, Type: e.Type.main(), Actor: e.Actor.first(), Object: e.Object}
}

// receive acts on a verified activity.
func (f *Service) receive(ctx context.Context, act *activity, body []byte) error {
	const op = "federation.receive"
	if handled, err := f.receivePlaylist(ctx, act, body); handled {
		return err
	}
	if handled, err := f.receiveStatement(ctx, act, body); handled {
		return err
	}
	if handled, err := f.receiveSubscription(ctx, act, body); handled {
		return err
	}
	if handled, err := f.receiveReview(ctx, act, body); handled {
		return err
	}
	obj := parseRef(act.Object)
	switch act.Type {
	case "Follow":
		local, ok := f.localActor(ctx, obj.ID)
		if !ok {
			return nineten.E(op, nineten.KindNotFound, obj.ID+" is not an actor of this node")
		}
		follower, err := f.RemoteActor(ctx, act.Actor, false)
		if err != nil {
			return err
		}
		// Follows are approved at once (artists and listeners publish in
		// public) unless the owner approves followers by hand: then the
		// request waits for them, and a follower asking again stays one.
		state := nineten.FollowAccepted
		if f.approvesManually(ctx, local) && !f.isFollower(ctx, local, act.Actor) {
			state = nineten.FollowPending
		}
		if err := f.Store.SaveFollow(ctx, &nineten.Follow{Local: local, Remote: act.Actor, Inbound: true, State: state, Activity: act.ID, CreatedAt: f.now()}); err != nil {
			return err
		}
		if state == nineten.FollowPending {
			return nil
		}
		accept := map[string]any{
			"@context": asContext, "id": obj.ID + "#accepts/" + randomID(), "type": "Accept",
			"actor": obj.ID, "object": map[string]any{"id": act.ID, "type": "Follow", "actor": act.Actor, "object": obj.ID},
		}
		return f.deliver(ctx, local, accept, follower.Inbox)
	case "Undo":
		if obj.Type == "Like" || obj.Type == "Announce" || obj.Type == "" {
			if done, err := f.undoReaction(ctx, act, obj); done || err != nil {
				return err
			}
		}
		if obj.Type == "Follow" || obj.Type == "" {
			inner := parseRef(obj.Object)
			if local, ok := f.localActor(ctx, inner.ID); ok {
				return f.Store.DeleteFollow(ctx, local, act.Actor, true)
			}
			if follow, err := f.Store.FollowByActivity(ctx, obj.ID); err == nil && follow.Remote == act.Actor && follow.Inbound {
				return f.Store.DeleteFollow(ctx, follow.Local, follow.Remote, true)
			}
		}
		return nil // undoing something we never kept
	case "Accept", "Reject":
		follow, err := f.Store.FollowByActivity(ctx, obj.ID)
		if err != nil || follow.Inbound || follow.Remote != act.Actor {
			// Not an answer to a follow request of ours: GoToSocial, say,
			// accepts replies and likes too (interaction approvals).
			return f.ignore(ctx, act, "it answers no follow request of this node")
		}
		if act.Type == "Reject" {
			return f.Store.DeleteFollow(ctx, follow.Local, follow.Remote, false)
		}
		follow.State = nineten.FollowAccepted
		if err := f.Store.SaveFollow(ctx, follow); err != nil {
			return err
		}
		if id, ok := strings.CutPrefix(follow.Local, "user:"); ok {
			// A subscriber now follows one more artist: they support them.
			n, _ := strconv.ParseInt(id, 10, 64)
			f.SubscriptionChanged(ctx, nineten.SubscriptionEvent{UserID: nineten.ID(n)})
		}
		return f.importPlaylists(ctx, follow.Remote)
	case "Delete":
		// GoToSocial sends deletes without an id, Funkwhale one for several
		// uploads; what an actor deletes must be its own, on its host.
		refs := parseRefs(act.Object)
		if len(refs) == 0 || act.ID != "" && !sameHost(act.ID, act.Actor) {
			return nineten.E(op, nineten.KindInvalid, "the delete names no object, or is not on the actor's host")
		}
		for _, r := range refs {
			if r.ID == "" || !sameHost(r.ID, act.Actor) {
				return nineten.E(op, nineten.KindInvalid, "the deleted object is not on the actor's host")
			}
		}
		if len(refs) == 1 && refs[0].ID == act.Actor {
			// The actor itself was deleted (an account closed): forget it
			// and everything it left here.
			if err := f.Store.ForgetActor(ctx, act.Actor); err != nil {
				return err
			}
			f.Log.InfoContext(ctx, "a remote actor was deleted; forgot it", "actor", act.Actor)
			return nil
		}
		for _, r := range refs {
			if err := f.Store.DeleteReceived(ctx, act.Actor, r.ID); err != nil {
				return err
			}
			if err := f.forgetDeleted(ctx, act.Actor, r.ID); err != nil {
				return err
			}
		}
		return nil
	case "Create", "Update", "Announce":
		if refs := parseRefs(act.Object); len(refs) > 1 {
			// Several objects at once (GoToSocial's votes in a poll):
			// nothing a listener's feed shows.
			return f.ignore(ctx, act, "it has several objects")
		}
		// Mastodon's rule: what an actor publishes lives on its own host.
		if obj.ID == "" || act.ID == "" || !sameHost(act.ID, act.Actor) || act.Type != "Announce" && !sameHost(obj.ID, act.Actor) {
			return nineten.E(op, nineten.KindInvalid, "the activity or its object is not on the actor's host")
		}
		if act.Type == "Update" && obj.ID == act.Actor {
			// A profile edit: refetch the actor rather than trust the copy.
			_, err := f.RemoteActor(ctx, act.Actor, true)
			return err
		}
		// A boost of a track here counts, and shows in the feeds of those
		// who follow the booster; a reply to one is a comment.
		if act.Type == "Announce" {
			if _, err := f.receiveReaction(ctx, act, obj); err != nil {
				return err
			}
		} else if done, err := f.receiveComment(ctx, act, body); done || err != nil {
			return err
		}
		// Only what someone here follows is kept: anything else would let
		// any server fill the database.
		if followed, err := f.Store.Followed(ctx, act.Actor); err != nil || !followed {
			return err
		}
		if act.Type == "Update" {
			// The feed shows the latest version once.
			if err := f.Store.DeleteReceived(ctx, act.Actor, obj.ID); err != nil {
				return err
			}
		}
		_, err := f.Store.SaveReceived(ctx, &nineten.Received{
			Activity: act.ID, Type: act.Type, Actor: act.Actor, Object: obj.ID, Payload: body, ReceivedAt: f.now(),
		})
		return err
	case "Like", "Dislike":
		if done, err := f.receiveReaction(ctx, act, obj); done || err != nil {
			return err
		}
	case "Listen":
		return f.receiveListen(ctx, act, body)
	}
	// Likes of what is not a track here, Block, Flag, Move, PeerTube's
	// View…: accepted and ignored, as Mastodon does with what it does not
	// handle, so that no server retries them.
	return f.ignore(ctx, act, "this node does not act on it")
}

// ignore accepts an activity the node does not act on.
func (f *Service) ignore(ctx context.Context, act *activity, why string) error {
	f.Log.DebugContext(ctx, "ignored an activity", "type", act.Type, "id", act.ID, "actor", act.Actor, "why", why)
	return nil
}
