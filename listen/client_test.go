package listen_test

import (
	"strings"
	"testing"

	"nineten.dev/listen"
)

// A session keeps keyed tags of its client's network (/24 or /64) and
// browser: equal for clients of one network or one browser, different
// otherwise, and never the address or the user agent themselves.
func TestSessionsTagNetworkAndDeviceWithoutKeepingThem(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(60_000)
		tags := func(c listen.Client) (string, string) {
			t.Helper()
			s, err := r.svc.Start(t.Context(), nil, "anon-browser-0001", id, c)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := r.store.ListenSessionByID(t.Context(), s.SessionID)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{c.Addr, c.UserAgent, c.Browser, "203.0.113", "2001:db8"} {
				if secret != "" && (strings.Contains(ls.Network, secret) || strings.Contains(ls.Device, secret)) {
					t.Errorf("the session keeps %q in the clear: %+v", secret, ls)
				}
			}
			return ls.Network, ls.Device
		}
		n1, d1 := tags(listen.Client{Addr: "203.0.113.7", Browser: "browser-a", UserAgent: "Firefox"})
		n2, d2 := tags(listen.Client{Addr: "203.0.113.200", Browser: "browser-a", UserAgent: "Chrome"})
		n3, d3 := tags(listen.Client{Addr: "203.0.114.7", Browser: "browser-b", UserAgent: "Firefox"})
		n4, _ := tags(listen.Client{Addr: "2001:db8:1:2:aaaa::1"})
		n5, d5 := tags(listen.Client{Addr: "2001:db8:1:2:bbbb::9", UserAgent: "Firefox"})
		n6, _ := tags(listen.Client{Addr: "::ffff:203.0.113.9"})
		none, nodev := tags(listen.Client{})
		switch {
		case n1 == "" || n1 != n2 || n1 != n6:
			t.Errorf("one /24 (also IPv4-mapped) should be one network: %q %q %q", n1, n2, n6)
		case n3 == n1:
			t.Errorf("another /24 should be another network")
		case n4 == "" || n4 != n5 || n4 == n1:
			t.Errorf("one /64 should be one network, of its own: %q %q", n4, n5)
		case d1 == "" || d1 != d2 || d3 == d1:
			t.Errorf("the browser cookie should name the device: %q %q %q", d1, d2, d3)
		case d5 == "" || d5 == d1:
			t.Errorf("without a cookie the user agent names the device: %q", d5)
		case none != "" || nodev != "":
			t.Errorf("an unknown client should have no tags: %q %q", none, nodev)
		}
		other := &listen.Service{Store: r.store, Blobs: r.svc.Blobs, Clock: r.clock, Secret: []byte("another node")}
		s, err := other.Start(t.Context(), nil, "anon-browser-0001", id, listen.Client{Addr: "203.0.113.7"})
		if err != nil {
			t.Fatal(err)
		}
		if ls, _ := r.store.ListenSessionByID(t.Context(), s.SessionID); ls == nil || ls.Network == n1 {
			t.Errorf("another node's secret should give another tag")
		}
	})
}
