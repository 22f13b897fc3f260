package federation

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	nineten "nineten.dev"
)

// Subscriptions on the fediverse (issue 5): a listener's paid subscription
// is visible to the artists they support on other nodes. The listener's
// node sends, from the listener's actor,
//
//	{"type": "Subscription", "actor": <listener>, "object": <artist>,
//	 "status": "active", "paidThrough": "2026-11"}
//
// to each artist of another 9ten node the listener follows (support), and
// one whose object is the listener's own node actor to those artists'
// node actors (paid membership: the peer knows the listener pays their
// node). Renewals and expiries are sent as an Update of the Subscription
// (its id, the new status and month), a cancellation as an Undo of it.
// Only artist and node actors of 9ten nodes (actorKind "artist" or
// "node") are sent these; others would drop them (Mastodon answers 202 to
// types it does not know). The node keeps what it last told each actor
// (told_subscriptions), so that each change is sent once.
//
// The receiving node keeps the supporters of its artists (and the remote
// members it heard of), shown on the artist's page per node.

const subscriptionType = "Subscription"

// SubscriptionChanged tells the artists a listener supports, and their
// nodes, that the listener subscribed or cancelled. It runs in the
// background: the listener does not wait for other servers.
func (f *Service) SubscriptionChanged(ctx context.Context, ev nineten.SubscriptionEvent) {
	go func() {
		if err := f.syncSubscription(context.WithoutCancel(ctx), ev.UserID); err != nil {
			f.Log.WarnContext(ctx, "telling other nodes of a subscription failed; the next sync tries again", "user", ev.UserID, "err", err)
		}
	}()
}

// SyncSubscriptions tells other nodes what changed in the subscriptions of
// the listeners they heard of (renewed or expired by the money calendar).
func (f *Service) SyncSubscriptions(ctx context.Context) error {
	ids, err := f.Store.ToldListeners(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := f.syncSubscription(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// subscriptionTarget is an actor to tell, and the object of what it is told.
type subscriptionTarget struct {
	actor  string // the remote actor told
	object string // the artist supported, or the listener's node actor
}

// syncSubscription brings what remote actors know of a listener's
// subscription up to date.
func (f *Service) syncSubscription(ctx context.Context, userID nineten.ID) error {
	if f.Ledger == nil {
		return nil
	}
	u, err := f.Store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	var status nineten.SubscriptionStatus
	var paid nineten.Period
	if sub, err := f.Ledger.SubscriptionOf(ctx, strconv.FormatInt(int64(userID), 10)); err == nil {
		status, paid = sub.Status, sub.Paid
	} else if nineten.ErrorKind(err) != nineten.KindNotFound {
		return err
	}
	told, err := f.Store.ToldSubscriptions(ctx, userID)
	if err != nil {
		return err
	}
	known := map[string]nineten.ToldSubscription{}
	for _, t := range told {
		known[t.Target] = t
	}
	targets, err := f.subscriptionTargets(ctx, u, known)
	if err != nil {
		return err
	}
	// Active and in grace (paid up to last month, renewing) count as
	// support; a cancellation takes it back at once (Undo), an expiry is
	// told as such (Update) and stays.
	live := status == nineten.SubscriptionActive || status == nineten.SubscriptionGrace
	actorIRI := f.url("/users/" + u.Username)
	wanted := map[string]bool{}
	for _, tg := range targets {
		wanted[tg.actor] = true
		t, ok := known[tg.actor]
		if ok && t.Status == "" {
			continue // not a 9ten artist or node: nothing to tell
		}
		switch {
		case live && !ok:
			t = nineten.ToldSubscription{UserID: userID, Target: tg.actor, Activity: actorIRI + "#subscriptions/" + randomID()}
			if err := f.tellSubscription(ctx, u, tg, &t, "", status, paid); err != nil {
				return err
			}
		case live && (t.Status != status || t.Paid != paid):
			if err := f.tellSubscription(ctx, u, tg, &t, "Update", status, paid); err != nil {
				return err
			}
		case !live && ok && status == nineten.SubscriptionExpired && t.Status != status:
			// An expiry is news: Update, then nothing more is said.
			if err := f.tellSubscription(ctx, u, tg, &t, "Update", status, paid); err != nil {
				return err
			}
		}
	}
	// Cancelled, or no longer followed: taken back.
	for _, t := range told {
		if t.Status == "" || wanted[t.Target] && (live || status == nineten.SubscriptionExpired) {
			continue
		}
		if err := f.undoSubscription(ctx, u, t); err != nil {
			return err
		}
	}
	return nil
}

// subscriptionTargets are the artists of other 9ten nodes the listener
// follows, and those nodes' actors. An actor never seen is looked up once
// and, when it is no 9ten artist, remembered as nothing to tell.
func (f *Service) subscriptionTargets(ctx context.Context, u *nineten.User, known map[string]nineten.ToldSubscription) ([]subscriptionTarget, error) {
	follows, err := f.Store.Follows(ctx, userActorName(u), false)
	if err != nil {
		return nil, err
	}
	var out []subscriptionTarget
	nodes := map[string]bool{}
	for _, fw := range follows {
		if fw.State != nineten.FollowAccepted {
			continue
		}
		if t, ok := known[fw.Remote]; ok && t.Status == "" {
			continue
		}
		if _, ok := known[fw.Remote]; !ok && !f.isActorKind(ctx, fw.Remote, "artist") {
			if err := f.Store.SaveToldSubscription(ctx, &nineten.ToldSubscription{UserID: u.ID, Target: fw.Remote, Updated: f.now()}); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, subscriptionTarget{actor: fw.Remote, object: fw.Remote})
		if node := f.remoteScheme() + "://" + hostOf(fw.Remote) + "/actor"; !nodes[node] {
			nodes[node] = true
			out = append(out, subscriptionTarget{actor: node, object: f.url("/actor")})
		}
	}
	return out, nil
}

// isActorKind reports whether the actor at iri is a 9ten actor of kind.
func (f *Service) isActorKind(ctx context.Context, iri, kind string) bool {
	var doc struct {
		ID        string `json:"id"`
		ActorKind string `json:"actorKind"`
	}
	return f.Client.GetJSON(ctx, iri, "", f.signGET(ctx), &doc) == nil && doc.ID == iri && doc.ActorKind == kind
}

// subscriptionDoc is the Subscription activity t names.
func subscriptionDoc(actor string, tg subscriptionTarget, t *nineten.ToldSubscription) map[string]any {
	return map[string]any{
		"@context": contexts, "id": t.Activity, "type": subscriptionType, "actor": actor,
		"object": tg.object, "to": []any{tg.actor}, "status": string(t.Status), "paidThrough": string(t.Paid),
	}
}

// tellSubscription sends a Subscription (verb "") or its Update, and
// records what the target now knows.
func (f *Service) tellSubscription(ctx context.Context, u *nineten.User, tg subscriptionTarget, t *nineten.ToldSubscription, verb string, status nineten.SubscriptionStatus, paid nineten.Period) error {
	inbox, err := f.inboxOf(ctx, tg.actor)
	if err != nil {
		f.Log.InfoContext(ctx, "a supported artist's node is out of reach; told later", "actor", tg.actor, "err", err)
		return nil
	}
	actor := f.url("/users/" + u.Username)
	t.Status, t.Paid, t.Updated = status, paid, f.now()
	act := subscriptionDoc(actor, tg, t)
	if verb != "" {
		inner := act
		delete(inner, "@context")
		act = map[string]any{"@context": contexts, "id": t.Activity + "/updates/" + randomID(), "type": verb, "actor": actor, "to": []any{tg.actor}, "object": inner}
	}
	if err := f.deliver(ctx, userActorName(u), act, inbox); err != nil {
		return err
	}
	return f.Store.SaveToldSubscription(ctx, t)
}

// undoSubscription takes a Subscription back.
func (f *Service) undoSubscription(ctx context.Context, u *nineten.User, t nineten.ToldSubscription) error {
	if inbox, err := f.inboxOf(ctx, t.Target); err == nil {
		actor := f.url("/users/" + u.Username)
		undo := map[string]any{
			"@context": contexts, "id": t.Activity + "/undo", "type": "Undo", "actor": actor, "to": []any{t.Target},
			"object": map[string]any{"id": t.Activity, "type": subscriptionType, "actor": actor},
		}
		if err := f.deliver(ctx, userActorName(u), undo, inbox); err != nil {
			return err
		}
	}
	return f.Store.DeleteToldSubscription(ctx, u.ID, t.Target)
}

// inboxOf is a remote actor's own inbox.
func (f *Service) inboxOf(ctx context.Context, iri string) (string, error) {
	a, err := f.RemoteActor(ctx, iri, false)
	if err != nil {
		return "", err
	}
	return a.Inbox, nil
}

// receiveSubscription keeps what a listener of another node tells of
// their subscription; it reports whether the activity was about one.
func (f *Service) receiveSubscription(ctx context.Context, act *activity, body []byte) (bool, error) {
	obj := parseRef(act.Object)
	switch {
	case act.Type == subscriptionType:
		return true, f.saveSupporter(ctx, act.Actor, act.ID, body)
	case act.Type == "Update" && obj.Type == subscriptionType:
		if obj.Actor != act.Actor {
			return true, nineten.E("federation.receiveSubscription", nineten.KindPermission, "only its listener updates a subscription")
		}
		return true, f.saveSupporter(ctx, act.Actor, obj.ID, act.Object)
	case act.Type == "Undo" && obj.Type == subscriptionType:
		err := f.Store.DeleteSupporterByActivity(ctx, act.Actor, obj.ID)
		if nineten.ErrorKind(err) == nineten.KindNotFound {
			return true, nil
		}
		return true, err
	}
	return false, nil
}

// saveSupporter records a Subscription: to an artist here, a supporter;
// to the sender's own node actor, a member of that node.
func (f *Service) saveSupporter(ctx context.Context, actor, id string, raw []byte) error {
	const op = "federation.saveSupporter"
	var s struct {
		Object      string `json:"object"`
		Status      string `json:"status"`
		PaidThrough string `json:"paidThrough"`
	}
	if err := json.Unmarshal(raw, &s); err != nil || id == "" || !sameHost(id, actor) {
		return nineten.E(op, nineten.KindInvalid, "a Subscription needs an id on its actor's host and an object")
	}
	status := nineten.SubscriptionStatus(s.Status)
	switch status {
	case nineten.SubscriptionActive, nineten.SubscriptionGrace, nineten.SubscriptionCancelled, nineten.SubscriptionExpired:
	default:
		return nineten.E(op, nineten.KindInvalid, "a Subscription's status is active, grace, cancelled or expired")
	}
	if _, err := nineten.Period(s.PaidThrough).Start(); err != nil {
		return nineten.E(op, nineten.KindInvalid, "a Subscription's paidThrough is a month (YYYY-MM)")
	}
	sp := &nineten.Supporter{Actor: actor, Node: hostOf(actor), Activity: id, Status: status, Paid: nineten.Period(s.PaidThrough), Since: f.now(), Updated: f.now()}
	if slug, ok := strings.CutPrefix(s.Object, f.url("/artists/")); ok {
		a, err := f.Store.ArtistBySlug(ctx, slug)
		if err != nil {
			return nineten.E(op, nineten.KindNotFound, s.Object+" is no artist of this node")
		}
		sp.ArtistID = a.ID
	} else if !sameHost(s.Object, actor) || !strings.HasSuffix(s.Object, "/actor") {
		return f.ignore(ctx, &activity{ID: id, Type: subscriptionType, Actor: actor}, "it supports nobody here")
	}
	return f.Store.SaveSupporter(ctx, sp)
}
