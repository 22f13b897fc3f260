package usdp

import (
	"math/big"
	"math/rand"
	"testing"

	nineten "nineten.dev"
	"nineten.dev/chaincode"
)

// For USDP's 18 decimals the conversion must agree with the contract's own
// (chaincode.FromUSDP) on every amount, remainder included.
func TestUnitsAgreeWithTheContractFor18Decimals(t *testing.T) {
	u, err := newUnits(18)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	limit := new(big.Int).Mul(big.NewInt(1<<62), big.NewInt(1_000_000_000_000))
	for i := range 2000 {
		x := new(big.Int).Rand(r, limit)
		if i%3 == 0 {
			x.SetInt64(r.Int63n(2_000_000_000_000)) // around one micro-dollar
		}
		m, rem, err := u.toMicro(x)
		cm, crem, cerr := chaincode.FromUSDP(x)
		if err != nil || cerr != nil || int64(m) != int64(cm) || rem.Cmp(crem) != 0 {
			t.Fatalf("%s: %d rem %s (%v); contract %d rem %s (%v)", x, m, rem, err, cm, crem, cerr)
		}
		back := u.fromMicro(m)
		if back.Add(back, rem).Cmp(x) != 0 {
			t.Fatalf("%s: micro and remainder do not add back up", x)
		}
	}
}

func TestUnitsOfOtherPrecisions(t *testing.T) {
	for _, c := range []struct {
		decimals uint8
		units    int64
		micro    nineten.Micro
		rem      int64
	}{
		{6, 10_500_001, 10_500_001, 0},  // USDC: a base unit is a micro-dollar
		{2, 1_234, 12_340_000, 0},       // cents
		{0, 3, 3_000_000, 0},            // whole dollars
		{8, 123_456_789, 1_234_567, 89}, // two digits below a micro-dollar
	} {
		u, err := newUnits(c.decimals)
		if err != nil {
			t.Fatal(err)
		}
		m, rem, err := u.toMicro(big.NewInt(c.units))
		if err != nil || m != c.micro || rem.Int64() != c.rem {
			t.Errorf("%d decimals, %d units: %d rem %s (%v), want %d rem %d", c.decimals, c.units, m, rem, err, c.micro, c.rem)
		}
		if c.rem == 0 && u.fromMicro(m).Int64() != c.units {
			t.Errorf("%d decimals: %d micro back to %s units, want %d", c.decimals, m, u.fromMicro(m), c.units)
		}
	}
	if _, err := newUnits(MaxDecimals + 1); nineten.ErrorKind(err) != nineten.KindUnsupported {
		t.Errorf("%d decimals: %v", MaxDecimals+1, err)
	}
	u, _ := newUnits(18)
	if _, _, err := u.toMicro(new(big.Int).Lsh(big.NewInt(1), 200)); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("2^200 base units: %v, want invalid", err)
	}
	if _, _, err := u.toMicro(big.NewInt(-1)); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("a negative amount: %v", err)
	}
}
