package federation

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
)

// actorRefresh is how long a fetched actor is trusted before refetching.
const actorRefresh = 24 * time.Hour

// signGET signs an outbound GET as the node actor, so servers that require
// signed fetches (authorized fetch) answer.
func (f *Service) signGET(ctx context.Context) func(*http.Request) error {
	return func(r *http.Request) error {
		k, err := f.Keys(ctx, nodeActorName)
		if err != nil {
			return err
		}
		return httpsig.SignCavage(r, nil, httpsig.Key{ID: f.url("/actor") + "#main-key", Private: k.RSA}, f.now())
	}
}

// actorJSON is the part of an actor document 9ten uses.
type actorJSON struct {
	ID                string `json:"id"`
	Type              types  `json:"type"`
	Inbox             string `json:"inbox"`
	Outbox            string `json:"outbox"`
	PreferredUsername string `json:"preferredUsername"`
	Name              string `json:"name"`
	Endpoints         struct {
		SharedInbox string `json:"sharedInbox"`
	} `json:"endpoints"`
	PublicKey publicKeys `json:"publicKey"`
	// Icon and Image are the avatar and the header picture: an Image, a
	// list of them (PeerTube: one per size) or a bare URL.
	Icon  links `json:"icon"`
	Image links `json:"image"`
	// Some servers (GoToSocial) serve the key document itself at its id.
	Owner        string `json:"owner"`
	PublicKeyPem string `json:"publicKeyPem"`
}

// publicKey is an actor's key for HTTP signatures.
type publicKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPem string `json:"publicKeyPem"`
}

// publicKeys are the keys of an actor: one, or a list of them as Fedify
// publishes an actor with several keys.
type publicKeys []publicKey

func (p *publicKeys) UnmarshalJSON(data []byte) error {
	*p = nil
	eachItem(data, func(raw json.RawMessage) {
		var k publicKey
		if json.Unmarshal(raw, &k) == nil && k.PublicKeyPem != "" {
			*p = append(*p, k)
		}
	})
	return nil
}

// of is the first key the actor owns. 9ten keeps one key per actor: a
// signature made with another of its keys does not verify.
func (p publicKeys) of(actor string) publicKey {
	for _, k := range p {
		if k.Owner == actor || k.Owner == "" {
			return k
		}
	}
	return publicKey{}
}

// RemoteActor returns another server's actor, from the store when fresh.
func (f *Service) RemoteActor(ctx context.Context, iri string, refresh bool) (*nineten.RemoteActor, error) {
	const op = "federation.RemoteActor"
	if f.blocked(ctx, iri) {
		return nil, errBlocked(op, iri)
	}
	if !refresh {
		if a, err := f.Store.RemoteActor(ctx, iri); err == nil && f.now().Sub(a.FetchedAt) < actorRefresh {
			return a, nil
		}
	}
	var doc actorJSON
	if err := f.Client.GetJSON(ctx, iri, "", f.signGET(ctx), &doc); err != nil {
		return nil, nineten.E(op, err)
	}
	if doc.ID != iri || doc.Inbox == "" {
		return nil, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%s is not an actor (its id is %q)", iri, doc.ID))
	}
	key := doc.PublicKey.of(doc.ID)
	if !sameHost(doc.ID, doc.Inbox) || doc.Outbox != "" && !sameHost(doc.ID, doc.Outbox) || key.ID != "" && !sameHost(doc.ID, key.ID) {
		return nil, nineten.E(op, nineten.KindInvalid, iri+" names an inbox, outbox or key on another host")
	}
	a := &nineten.RemoteActor{
		IRI: iri, Inbox: doc.Inbox, Outbox: doc.Outbox, SharedInbox: doc.Endpoints.SharedInbox,
		KeyID: key.ID, PublicKeyPEM: key.PublicKeyPem, Name: doc.Name, FetchedAt: f.now(),
		Icon: doc.Icon.picture(), Image: doc.Image.picture(),
	}
	if doc.PreferredUsername != "" {
		// Without a username an actor has no handle (Mastodon does not
		// even take it as an actor).
		u, _ := url.Parse(iri)
		a.Handle = doc.PreferredUsername + "@" + u.Host
	}
	if err := f.Store.SaveRemoteActor(ctx, a); err != nil {
		return nil, nineten.E(op, err)
	}
	return a, nil
}

// sameHost reports whether two URLs are on one host (and port).
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && strings.EqualFold(ua.Host, ub.Host)
}

// keyOwner resolves a signature's key id to its owner and public key:
// the actor document at the id without its fragment, or, for servers that
// publish keys as documents of their own, that document's owner.
func (f *Service) keyOwner(ctx context.Context, keyID string, refresh bool) (string, crypto.PublicKey, error) {
	const op = "federation.keyOwner"
	actorIRI, _, _ := strings.Cut(keyID, "#")
	a, err := f.RemoteActor(ctx, actorIRI, refresh)
	if nineten.ErrorKind(err) == nineten.KindInvalid {
		// Not an actor: a key document naming its owner.
		var doc actorJSON
		if err := f.Client.GetJSON(ctx, actorIRI, "", f.signGET(ctx), &doc); err != nil {
			return "", nil, nineten.E(op, err)
		}
		if doc.Owner == "" || !sameHost(doc.Owner, keyID) {
			return "", nil, nineten.E(op, nineten.KindUnauthenticated, "the key "+keyID+" names no owner on its host")
		}
		if a, err = f.RemoteActor(ctx, doc.Owner, refresh); err != nil {
			return "", nil, err
		}
	} else if err != nil {
		return "", nil, err
	}
	if a.KeyID != keyID {
		return "", nil, nineten.E(op, nineten.KindUnauthenticated, fmt.Sprintf("%s does not publish the key %s", a.IRI, keyID))
	}
	pub, err := parsePublicKey(a.PublicKeyPEM)
	if err != nil {
		return "", nil, nineten.E(op, nineten.KindUnauthenticated, a.IRI+" publishes no readable public key", err)
	}
	return a.IRI, pub, nil
}

// parsePublicKey reads a PEM public key: SubjectPublicKeyInfo ("PUBLIC
// KEY"), as most servers publish it, or PKCS #1 ("RSA PUBLIC KEY"), as
// Funkwhale does.
func parsePublicKey(pemText string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	switch {
	case block == nil:
		return nil, errors.New("no PEM block")
	case block.Type == "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}

// localActor maps an IRI of this node to a local actor name and IRI
// ("artist:3"), or reports false.
func (f *Service) localActor(ctx context.Context, iri string) (string, bool) {
	path, ok := strings.CutPrefix(iri, f.url(""))
	if !ok {
		return "", false
	}
	if name, ok := strings.CutPrefix(path, "/users/"); ok {
		if u, err := f.Store.UserByUsername(ctx, name); err == nil && !u.Disabled {
			return userActorName(u), true
		}
	}
	if slug, ok := strings.CutPrefix(path, "/artists/"); ok {
		if a, err := f.Store.ArtistBySlug(ctx, slug); err == nil && !a.Deleted() {
			return artistActorName(a), true
		}
	}
	return "", false
}

// actorIRI is the IRI of a local actor name.
func (f *Service) actorIRI(ctx context.Context, name string) (string, error) {
	var id nineten.ID
	switch {
	case name == nodeActorName:
		return f.url("/actor"), nil
	case strings.HasPrefix(name, "user:"):
		fmt.Sscanf(name, "user:%d", &id)
		u, err := f.Store.UserByID(ctx, id)
		if err != nil {
			return "", err
		}
		return f.url("/users/" + u.Username), nil
	case strings.HasPrefix(name, "artist:"):
		fmt.Sscanf(name, "artist:%d", &id)
		a, err := f.Store.ArtistByID(ctx, id)
		if err != nil {
			return "", err
		}
		return f.url("/artists/" + a.Slug), nil
	}
	return "", nineten.E("federation.actorIRI", nineten.KindNotFound, "no local actor "+name)
}
