package listen

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
)

// tag is a keyed hash of a client's network or device. It is keyed by the
// node secret because the space of networks is small: anyone could hash
// all 2^24 IPv4 /24 prefixes and read an unkeyed hash back. The database
// (and its backups and copies) thus never holds an address, yet the
// detector can still tell that many accounts share one; the tags mean
// nothing off this node, and never leave it.
func (s *Service) tag(kind, v string) string {
	if v == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("9ten listen " + kind + "\x00" + v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// networkOf is the network an address belongs to: its IPv4 /24 or IPv6
// /64. A household's or a farm's address changes within those (DHCP,
// privacy addresses), and a whole prefix is what one connection owns.
func networkOf(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// deviceOf names the browser: by the id it keeps in a cookie when it has
// one (a farm cycling accounts in one browser keeps it), else by its user
// agent on its network. A user agent alone would name thousands of
// browsers of one make as one device.
func deviceOf(c Client) string {
	if c.Browser != "" {
		return "cookie:" + c.Browser
	}
	if c.UserAgent != "" {
		return "ua:" + c.UserAgent + "@" + networkOf(c.Addr)
	}
	return ""
}
