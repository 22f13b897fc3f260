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
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
)

// maxInbox bounds an inbox delivery, as Mastodon does (1 MB).
const maxInbox = 1 << 20

// activity is the envelope of an inbound activity; object may be an IRI
// or an embedded object.
type activity struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Actor  string          `json:"actor"`
	Object json.RawMessage `json:"object"`
}

// ref is an object given either as an IRI or embedded.
type ref struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Actor  string          `json:"actor"`
	Object json.RawMessage `json:"object"`
}

func parseRef(raw json.RawMessage) ref {
	var r ref
	var iri string
	if json.Unmarshal(raw, &iri) == nil {
		r.ID = iri
		return r
	}
	_ = json.Unmarshal(raw, &r)
	return r
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
		f.refuse(w, r, err)
		return
	}
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
		default:
			f.fail(w, r, err)
		}
		return
	}
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
	blocked := ""
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
			return pub, err
		},
	}
	keyID, err := v.Verify(r.Context(), r, body)
	if blocked != "" {
		return "", errBlocked("federation.verify", blocked)
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
	var act activity
	_ = json.Unmarshal(body, &act)
	return act
}

// receive acts on a verified activity.
func (f *Service) receive(ctx context.Context, act *activity, body []byte) error {
	const op = "federation.receive"
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
		if err := f.Store.SaveFollow(ctx, &nineten.Follow{Local: local, Remote: act.Actor, Inbound: true, State: nineten.FollowAccepted, Activity: act.ID, CreatedAt: f.now()}); err != nil {
			return err
		}
		// Follows are approved at once: artists and listeners publish in public.
		accept := map[string]any{
			"@context": asContext, "id": obj.ID + "#accepts/" + randomID(), "type": "Accept",
			"actor": obj.ID, "object": map[string]any{"id": act.ID, "type": "Follow", "actor": act.Actor, "object": obj.ID},
		}
		return f.deliver(ctx, local, accept, follower.Inbox)
	case "Undo":
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
			return nineten.E(op, nineten.KindNotFound, "no follow request "+obj.ID+" to "+act.Actor)
		}
		if act.Type == "Reject" {
			return f.Store.DeleteFollow(ctx, follow.Local, follow.Remote, false)
		}
		follow.State = nineten.FollowAccepted
		return f.Store.SaveFollow(ctx, follow)
	case "Create", "Update", "Announce", "Delete":
		// Mastodon's rule: what an actor publishes lives on its own host.
		if obj.ID == "" || act.ID == "" || !sameHost(act.ID, act.Actor) || act.Type != "Announce" && !sameHost(obj.ID, act.Actor) {
			return nineten.E(op, nineten.KindInvalid, "the activity or its object is not on the actor's host")
		}
		if act.Type == "Update" && obj.ID == act.Actor {
			// A profile edit: refetch the actor rather than trust the copy.
			_, err := f.RemoteActor(ctx, act.Actor, true)
			return err
		}
		if act.Type == "Delete" {
			return f.Store.DeleteReceived(ctx, act.Actor, obj.ID)
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
	case "Like", "Listen", "Add", "Remove", "Block", "Flag", "Move":
		// Known types this node does not act on yet: accepted, ignored.
		return nil
	}
	return nineten.E(op, nineten.KindUnsupported, fmt.Sprintf("activities of type %q are not supported", act.Type))
}
