package chaincode

import (
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFloats: money is integers only. The package's own source must not
// mention a float type at all.
func TestNoFloats(t *testing.T) {
	files, err := filepath.Glob("*.go")
	noErr(t, err)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		noErr(t, err)
		if strings.Contains(strings.ToLower(string(b)), "float") {
			t.Errorf("%s mentions float", f)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d source files checked; run from the package directory", checked)
	}
}

func usdp(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

func TestFromUSDP(t *testing.T) {
	for _, tc := range []struct {
		base      string
		micro     Micro
		remainder string
	}{
		{"0", 0, "0"},
		{"1000000000000000000", 1_000_000, "0"},   // 1 USDP
		{"10000000000000000000", 10_000_000, "0"}, // 10 USDP
		{"1500000000000000123", 1_500_000, "123"}, // 1.5 USDP + 123 base units
		{"999999999999", 0, "999999999999"},       // just under a micro-dollar
		{"1000000000000", 1, "0"},                 // one micro-dollar
		{"12345678901234567890", 12_345_678, "901234567890"},
		{"9223372036854775807999999999999", math.MaxInt64, "999999999999"}, // the largest that fits
	} {
		m, r, err := FromUSDP(usdp(tc.base))
		noErr(t, err)
		if m != tc.micro || r.String() != tc.remainder {
			t.Errorf("FromUSDP(%s) = %d, %s; want %d, %s", tc.base, m, r, tc.micro, tc.remainder)
		}
		// Exact: micro × 10^12 + remainder gives back the input.
		back := new(big.Int).Add(ToUSDP(m), r)
		if back.String() != tc.base {
			t.Errorf("ToUSDP(%d) + %s = %s; want %s", m, r, back, tc.base)
		}
	}
	_, _, err := FromUSDP(usdp("9223372036854775808000000000000"))
	wantKind(t, err, KindOverflow)
	_, _, err = FromUSDP(usdp("-1"))
	wantKind(t, err, KindInvalid)
	_, _, err = FromUSDP(nil)
	wantKind(t, err, KindInvalid)
}

func TestMicroArithmetic(t *testing.T) {
	if s, err := Micro(math.MaxInt64 - 1).Add(1); err != nil || s != math.MaxInt64 {
		t.Errorf("MaxInt64-1 + 1 = %v, %v", s, err)
	}
	_, err := Micro(math.MaxInt64).Add(1)
	wantKind(t, err, KindOverflow)
	_, err = Micro(math.MinInt64).Add(-1)
	wantKind(t, err, KindOverflow)
	_, err = Micro(math.MinInt64).Sub(1)
	wantKind(t, err, KindOverflow)
	_, err = Micro(math.MaxInt64).Sub(-1)
	wantKind(t, err, KindOverflow)
	if d, err := Micro(5).Sub(7); err != nil || d != -2 {
		t.Errorf("5-7 = %v, %v", d, err)
	}
	if p, err := PoolShare.Mul(1000); err != nil || p != 9_000_000_000 {
		t.Errorf("9$ × 1000 = %v, %v", p, err)
	}
	_, err = Price.Mul(math.MaxInt64 / 1_000_000)
	wantKind(t, err, KindOverflow)
	_, err = Micro(math.MinInt64).Mul(-1)
	wantKind(t, err, KindOverflow)
	_, err = Micro(-1).Mul(math.MinInt64)
	wantKind(t, err, KindOverflow)
	if p, err := Micro(0).Mul(math.MinInt64); err != nil || p != 0 {
		t.Errorf("0 × MinInt64 = %v, %v", p, err)
	}
	for m, want := range map[Micro]string{
		0: "$0.000000", 1: "$0.000001", 9_000_000: "$9.000000", -1_500_001: "-$1.500001",
		math.MinInt64: "-$9223372036854.775808", math.MaxInt64: "$9223372036854.775807",
	} {
		if got := m.String(); got != want {
			t.Errorf("Micro(%d).String() = %q; want %q", int64(m), got, want)
		}
	}
}

func TestPeriods(t *testing.T) {
	for in, want := range map[string]string{"2025-01": "2025-02", "2025-09": "2025-10", "2025-12": "2026-01", "1999-12": "2000-01"} {
		if got, err := NextPeriod(in); err != nil || got != want {
			t.Errorf("NextPeriod(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2025-1", "2025-00", "2025-13", "25-01", "0999-01", "2025/01", "2025-01-01", "２０２５-01", "9999-12"} {
		if _, err := NextPeriod(bad); err == nil {
			t.Errorf("NextPeriod(%q) accepted", bad)
		}
	}
}

func TestIDs(t *testing.T) {
	for _, ok := range []string{"a", "music.example", "music.example:8443", "pi_3N~x@y+z-1", strings.Repeat("x", 128)} {
		if !validID(ok) {
			t.Errorf("validID(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "a/b", "a b", "é", "a\n", strings.Repeat("x", 129), "a\x00"} {
		if validID(bad) {
			t.Errorf("validID(%q) = true", bad)
		}
	}
}
