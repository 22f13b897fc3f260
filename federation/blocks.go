package federation

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	nineten "nineten.dev"
)

// blocklist caches the admins' domain blocks: every inbound delivery and
// outbound fetch checks it.
type blocklist struct {
	mu     sync.RWMutex
	loaded bool
	hosts  map[string]bool
}

// blocked reports whether the host of iri is blocked.
func (f *Service) blocked(ctx context.Context, iri string) bool {
	u, err := url.Parse(iri)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	f.blocks.mu.RLock()
	loaded, hit := f.blocks.loaded, f.blocks.hosts[host]
	f.blocks.mu.RUnlock()
	if loaded {
		return hit
	}
	f.reloadBlocks(ctx)
	f.blocks.mu.RLock()
	defer f.blocks.mu.RUnlock()
	return f.blocks.hosts[host]
}

func (f *Service) reloadBlocks(ctx context.Context) {
	list, err := f.Store.DomainBlocks(ctx)
	if err != nil {
		f.Log.ErrorContext(ctx, "reading domain blocks", "err", err)
		return
	}
	hosts := make(map[string]bool, len(list))
	for _, b := range list {
		hosts[b.Host] = true
	}
	f.blocks.mu.Lock()
	f.blocks.hosts, f.blocks.loaded = hosts, true
	f.blocks.mu.Unlock()
}

func errBlocked(op, iri string) error {
	return nineten.E(op, nineten.KindPermission, "the server of "+iri+" is blocked by this node's admins")
}

func needAdmin(op string, u *nineten.User) error {
	if u == nil || u.Role != nineten.RoleAdmin {
		return nineten.E(op, nineten.KindPermission, "only the node's admins manage domain blocks")
	}
	return nil
}

// normalizeHost accepts "host", "host:port" or a URL.
func normalizeHost(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		s = u.Host
	}
	ok := s != "" && utf8.RuneCountInString(s) <= 253 && !strings.ContainsAny(s, "/ @?#")
	return s, ok
}

// BlockDomain refuses a server and purges what came from it.
func (f *Service) BlockDomain(ctx context.Context, admin *nineten.User, host, reason string) (*nineten.DomainBlock, error) {
	const op = "federation.BlockDomain"
	if err := needAdmin(op, admin); err != nil {
		return nil, err
	}
	host, ok := normalizeHost(host)
	if !ok {
		return nil, nineten.E(op, nineten.KindInvalid, "give a server's host name, like spam.example")
	}
	if strings.EqualFold(host, f.Base.Host) {
		return nil, nineten.E(op, nineten.KindInvalid, "this node cannot block itself")
	}
	b := &nineten.DomainBlock{Host: host, Reason: strings.TrimSpace(reason), CreatedAt: f.now()}
	// Its actors' likes, boosts, comments and listens go with the rest.
	err := f.Store.WithTx(ctx, func(tx nineten.Store) error {
		if err := tx.BlockDomain(ctx, b); err != nil {
			return err
		}
		return tx.PurgeSocial(ctx, host)
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	f.reloadBlocks(ctx)
	return b, nil
}

// UnblockDomain lets a server federate again.
func (f *Service) UnblockDomain(ctx context.Context, admin *nineten.User, host string) error {
	const op = "federation.UnblockDomain"
	if err := needAdmin(op, admin); err != nil {
		return err
	}
	host, _ = normalizeHost(host)
	if err := f.Store.UnblockDomain(ctx, host); err != nil {
		return nineten.E(op, err)
	}
	f.reloadBlocks(ctx)
	return nil
}

// DomainBlocks lists the blocked servers.
func (f *Service) DomainBlocks(ctx context.Context, admin *nineten.User) ([]nineten.DomainBlock, error) {
	if err := needAdmin("federation.DomainBlocks", admin); err != nil {
		return nil, err
	}
	return f.Store.DomainBlocks(ctx)
}
