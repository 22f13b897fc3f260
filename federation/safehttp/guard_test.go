package safehttp

import (
	"net/netip"
	"strings"
	"testing"
)

// TestRefusal runs the classifier over addresses of every kind. Nothing
// here touches the network: these addresses are only parsed.
func TestRefusal(t *testing.T) {
	tests := []struct {
		addr string
		// why is a fragment of the refusal, "" for an allowed address.
		why string
		// whyLoop is the same with AllowLoopback; "=" means same as why.
		whyLoop string
	}{
		// Public addresses pass.
		{"93.184.215.14", "", "="},
		{"1.1.1.1", "", "="},
		{"8.8.8.8", "", "="},
		{"100.63.255.255", "", "="}, // just below CGNAT
		{"100.128.0.0", "", "="},    // just above CGNAT
		{"172.15.255.255", "", "="}, // just below 172.16/12
		{"172.32.0.0", "", "="},     // just above it
		{"223.255.255.255", "", "="},
		{"2606:4700:4700::1111", "", "="},
		{"2a00:1450:4001:80b::200e", "", "="},
		{"::ffff:93.184.215.14", "", "="},
		{"64:ff9b::5db8:d70e", "", "="},          // NAT64 of 93.184.215.14
		{"2002:5db8:d70e::1", "", "="},           // 6to4 of 93.184.215.14
		{"2001:4860:4860::8888", "", "="},        // 2001:4860::/32 is outside 2001::/23
		{"2001:200::1", "", "="},                 // first /23 after the IETF block
		{"3fff:fff::1", "documentation", "="},    // RFC 9637: 3fff::/20
		{"3fff:1000::1", "", "="},                // just past it
		{"4000::1", "not a global unicast", "="}, // outside 2000::/3

		// Loopback: refused unless AllowLoopback, and then only itself.
		{"127.0.0.1", "loopback", ""},
		{"127.1.2.3", "loopback", ""},
		{"::1", "loopback", ""},
		{"::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1, a loopback", ""},
		{"64:ff9b::7f00:1", "NAT64 address embedding 127.0.0.1, a loopback", "="},
		{"2002:7f00:1::", "6to4 address embedding 127.0.0.1", "="},

		// Private ranges, with their edges.
		{"10.0.0.5", "private", "="},
		{"10.255.255.255", "private", "="},
		{"172.16.0.1", "private", "="},
		{"172.31.255.255", "private", "="},
		{"192.168.1.1", "private", "="},
		{"fc00::1", "private", "="},
		{"fd00:ec2::254", "private", "="}, // AWS IPv6 metadata
		{"::ffff:10.0.0.5", "IPv4-mapped form of 10.0.0.5, a private", "="},
		{"::ffff:192.168.0.1", "private", "="},
		{"64:ff9b::a00:5", "NAT64 address embedding 10.0.0.5, a private", "="},
		{"64:ff9b::c0a8:101", "NAT64 address embedding 192.168.1.1", "="},

		// Link-local and cloud metadata.
		{"169.254.169.254", "cloud metadata", "="},
		{"169.254.0.1", "link-local", "="},
		{"::ffff:169.254.169.254", "IPv4-mapped form of 169.254.169.254, the cloud metadata", "="},
		{"::ffff:a9fe:a9fe", "cloud metadata", "="}, // the same, written in hex
		{"64:ff9b::a9fe:a9fe", "NAT64 address embedding 169.254.169.254", "="},
		{"fe80::1", "link-local", "="},
		{"fe80::1%eth0", "scoped", "="},
		{"100.100.100.200", "carrier-grade NAT", "="},    // Alibaba metadata
		{"192.0.0.192", "IETF protocol-assignment", "="}, // Oracle metadata

		// CGNAT, "this network", unspecified, broadcast, multicast, reserved.
		{"100.64.0.1", "carrier-grade NAT", "="},
		{"100.127.255.255", "carrier-grade NAT", "="},
		{"0.0.0.0", "unspecified", "="},
		{"0.1.2.3", "this network", "="},
		{"::", "unspecified", "="},
		{"::ffff:0.0.0.0", "unspecified", "="},
		{"255.255.255.255", "broadcast", "="},
		{"240.0.0.1", "reserved", "="},
		{"224.0.0.1", "multicast", "="},
		{"239.255.255.250", "multicast", "="},
		{"ff02::1", "multicast", "="},
		{"ff05::2", "multicast", "="},
		{"::ffff:224.0.0.1", "multicast", "="},

		// Documentation and benchmarking.
		{"192.0.2.1", "documentation", "="},
		{"198.51.100.7", "documentation", "="},
		{"203.0.113.9", "documentation", "="},
		{"198.18.0.1", "benchmarking", "="},
		{"198.19.255.255", "benchmarking", "="},
		{"2001:db8::1", "documentation", "="},
		{"2001:2::1", "benchmarking", "="},

		// Other special IPv6.
		{"2001::1", "Teredo", "="},
		{"2001:10::1", "IETF protocol-assignment", "="},
		{"64:ff9b:1::1", "local-use NAT64", "="},
		{"100::1", "discard-only", "="},
		{"::10.0.0.5", "IPv4-compatible", "="},
		{"::8.8.8.8", "IPv4-compatible", "="},
		{"::ffff:0:8.8.8.8", "IPv4-translated", "="},
		{"fec0::1", "site-local", "="},
		{"192.88.99.1", "6to4 relay", "="},
		{"2002:a00:5::1", "6to4 address embedding 10.0.0.5", "="},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.addr)
		whyLoop := tt.whyLoop
		if whyLoop == "=" {
			whyLoop = tt.why
		}
		for _, allow := range []bool{false, true} {
			want := tt.why
			if allow {
				want = whyLoop
			}
			got := refusal(ip, allow)
			switch {
			case want == "" && got != "":
				t.Errorf("refusal(%s, allowLoopback=%v) = %q, want allowed", tt.addr, allow, got)
			case want != "" && !strings.Contains(got, want):
				t.Errorf("refusal(%s, allowLoopback=%v) = %q, want it to contain %q", tt.addr, allow, got, want)
			}
		}
	}
	if got := refusal(netip.Addr{}, true); got == "" {
		t.Error("the zero Addr was allowed")
	}
}

// TestControl checks the second, socket-level check on its own, since the
// dialer's own check normally stops everything before it.
func TestControl(t *testing.T) {
	c := New(Options{})
	for _, addr := range []string{"10.0.0.5:443", "127.0.0.1:443", "[::1]:443", "169.254.169.254:80", "[::ffff:10.0.0.5]:443", "not an address"} {
		if err := c.control("tcp", addr, nil); err == nil {
			t.Errorf("control(%q) allowed it", addr)
		}
	}
	if err := c.control("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("control(public) = %v", err)
	}
	dev := New(Options{AllowLoopback: true})
	if err := dev.control("tcp", "127.0.0.1:8080", nil); err != nil {
		t.Errorf("control(loopback) in dev mode = %v", err)
	}
	if err := dev.control("tcp", "192.168.1.1:8080", nil); err == nil {
		t.Error("control(private) allowed it in dev mode")
	}
}

func TestCheckDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	if err := checkDepth(nest(64), 64); err != nil {
		t.Errorf("depth 64: %v", err)
	}
	if err := checkDepth(nest(65), 64); err == nil {
		t.Error("depth 65 passed")
	}
	// Brackets and escaped quotes inside strings do not count.
	s := []byte(`{"a":"` + strings.Repeat(`[{\"`, 500) + `"}`)
	if err := checkDepth(s, 2); err != nil {
		t.Errorf("brackets in a string counted: %v", err)
	}
	if err := checkDepth([]byte(`{"a\\":[[[1]]]}`), 3); err == nil {
		t.Error(`an escaped backslash before a quote hid the nesting`)
	}
}
