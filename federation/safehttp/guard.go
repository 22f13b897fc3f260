package safehttp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"nineten.dev"
)

// special is one address range we refuse, with the words an admin reads.
type special struct {
	prefix netip.Prefix
	what   string
}

func mustPrefixes(list ...[2]string) []special {
	out := make([]special, len(list))
	for i, l := range list {
		out[i] = special{netip.MustParsePrefix(l[0]), l[1]}
	}
	return out
}

// refusedV4 lists the IPv4 ranges that netip's predicates do not already
// name but that must never be fetched from: none of them hosts a public
// federation server, and several (CGNAT, 192.0.0.0/24) are where cloud
// providers put metadata or gateway services. Order matters only for the
// wording: narrower entries come first.
var refusedV4 = mustPrefixes(
	[2]string{"0.0.0.0/8", "a \"this network\" address"},
	[2]string{"100.64.0.0/10", "a carrier-grade NAT (shared) address"},
	[2]string{"192.0.0.0/24", "an IETF protocol-assignment address"},
	[2]string{"192.0.2.0/24", "a documentation address"},
	[2]string{"192.88.99.0/24", "a 6to4 relay anycast address"},
	[2]string{"198.18.0.0/15", "a benchmarking address"},
	[2]string{"198.51.100.0/24", "a documentation address"},
	[2]string{"203.0.113.0/24", "a documentation address"},
	[2]string{"255.255.255.255/32", "the broadcast address"},
	[2]string{"240.0.0.0/4", "a reserved address"},
)

// refusedV6 names the IPv6 ranges refused inside or outside 2000::/3. Only
// 2000::/3 (global unicast) and NAT64 of a public IPv4 address are allowed
// at all; this table exists so the refusal says what the address is.
var refusedV6 = mustPrefixes(
	[2]string{"::/96", "a deprecated IPv4-compatible address"},
	[2]string{"::ffff:0:0:0/96", "an IPv4-translated address"},
	[2]string{"64:ff9b:1::/48", "a local-use NAT64 address"},
	[2]string{"100::/64", "a discard-only address"},
	[2]string{"2001::/32", "a Teredo tunnel address"},
	[2]string{"2001:2::/48", "a benchmarking address"},
	[2]string{"2001:db8::/32", "a documentation address"},
	[2]string{"2001::/23", "an IETF protocol-assignment address"},
	[2]string{"3fff::/20", "a documentation address"},
	[2]string{"fec0::/10", "a deprecated site-local address"},
)

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	metadata       = netip.MustParseAddr("169.254.169.254")
)

// refusal says why ip must not be fetched from, as a phrase that follows
// "<ip> is", or "" when it is a public address. allowLoopback admits
// 127.0.0.0/8 and ::1 (and the IPv4-mapped form of 127.0.0.0/8, which the
// kernel treats the same) and nothing else: a developer's machine may run
// two nodes side by side, but its LAN is still off limits.
func refusal(ip netip.Addr, allowLoopback bool) string {
	if !ip.IsValid() {
		return "not a valid address"
	}
	if ip.Zone() != "" {
		// A zone only means something for link-local targets on this host.
		return "a scoped address"
	}
	if ip.Is4In6() {
		// ::ffff:10.0.0.5 reaches 10.0.0.5: judge the IPv4 address.
		if why := refusal(ip.Unmap(), allowLoopback); why != "" {
			return "an IPv4-mapped form of " + ip.Unmap().String() + ", " + why
		}
		return ""
	}
	switch {
	case ip.IsLoopback():
		if allowLoopback {
			return ""
		}
		return "a loopback address"
	case ip.IsUnspecified():
		// Dialing 0.0.0.0 or :: connects to this host.
		return "the unspecified address"
	case ip.IsPrivate():
		return "a private address"
	case ip == metadata:
		return "the cloud metadata address (link-local)"
	case ip.IsLinkLocalUnicast():
		return "a link-local address"
	case ip.IsMulticast():
		return "a multicast address"
	}
	if ip.Is4() {
		for _, s := range refusedV4 {
			if s.prefix.Contains(ip) {
				return s.what + " (" + s.prefix.String() + ")"
			}
		}
		return ""
	}
	// IPv6 addresses that carry an IPv4 address get there through a
	// translator or tunnel, so the embedded address decides. Loopback is
	// not allowed inside them: a translator's 127.0.0.1 is not ours.
	if nat64.Contains(ip) {
		v4 := embeddedV4(ip, 12)
		if why := refusal(v4, false); why != "" {
			return "a NAT64 address embedding " + v4.String() + ", " + why
		}
		return ""
	}
	if sixToFour.Contains(ip) {
		v4 := embeddedV4(ip, 2)
		if why := refusal(v4, false); why != "" {
			return "a 6to4 address embedding " + v4.String() + ", " + why
		}
		return ""
	}
	for _, s := range refusedV6 {
		if s.prefix.Contains(ip) {
			return s.what + " (" + s.prefix.String() + ")"
		}
	}
	if !globalUnicast6.Contains(ip) {
		return "not a global unicast address"
	}
	return ""
}

func embeddedV4(ip netip.Addr, at int) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte(b[at : at+4]))
}

// refused is the error of the guard: why refers to the address, the URL is
// added by whoever knows it (the dialer only sees host:port).
type refused struct {
	kind nineten.Kind
	why  string
	url  string // the redirect target, when checkRedirect refused one
}

func (r *refused) Error() string { return r.why }

// dialContext is the transport's only way to open a connection. It
// resolves the host itself, checks every address the resolver returned and
// then dials those exact addresses, so a DNS answer cannot change between
// the check and the connection (DNS rebinding). A host with any refused
// address is refused as a whole: an answer mixing public and private
// addresses is either a misconfiguration or an attack.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := refusal(ip, c.opts.AllowLoopback); why != "" {
			return nil, &refused{kind: nineten.KindPermission, why: ip.String() + " is " + why}
		}
		ips = []netip.Addr{ip}
	} else {
		ips, err = c.lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s has no address", host)
		}
		for _, ip := range ips {
			if why := refusal(ip, c.opts.AllowLoopback); why != "" {
				return nil, &refused{kind: nineten.KindPermission, why: fmt.Sprintf("%s resolves to %s, %s", host, ip, why)}
			}
		}
	}
	var firstErr error
	tried := 0
	for _, ip := range ips {
		ip = ip.Unmap()
		if (network == "tcp4" && !ip.Is4()) || (network == "tcp6" && !ip.Is6()) {
			continue
		}
		tried++
		conn, err := c.dial(ctx, network, netip.AddrPortFrom(ip, uint16(port)))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if tried == 0 {
		return nil, fmt.Errorf("%s has no %s address", host, network)
	}
	return nil, firstErr
}

// control runs on the socket just before connect: a second check of the
// address actually being connected to, so that a future change to the dial
// path cannot silently skip the guard.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refused{kind: nineten.KindPermission, why: fmt.Sprintf("cannot check the address %q", address)}
	}
	if why := refusal(ap.Addr(), c.opts.AllowLoopback); why != "" {
		return &refused{kind: nineten.KindPermission, why: ap.Addr().String() + " is " + why}
	}
	return nil
}
