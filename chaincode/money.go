package chaincode

import (
	"math"
	"math/big"
	"strconv"
)

// Micro is an amount of money in micro-USD: 1 USD = 1,000,000 Micro. Every
// amount in the contract is a Micro: whole micro-dollars, integer arithmetic
// only, every operation checked for overflow.
type Micro int64

// The amounts of the promise.
const (
	USD           Micro = 1_000_000
	Price         Micro = 10 * USD // a month of subscription
	OperatorShare Micro = 1 * USD  // to the listener's node operator, on the 1st
	PoolShare     Micro = 9 * USD  // to the listener's top artists, by the 25th
	MaxMicro      Micro = math.MaxInt64
)

// Add returns m+n, or a KindOverflow error when it does not fit.
func (m Micro) Add(n Micro) (Micro, error) {
	s := m + n
	if (n > 0 && s < m) || (n < 0 && s > m) {
		return 0, errorf("", KindOverflow, m.String()+" + "+n.String()+" does not fit in an int64 of micro-USD")
	}
	return s, nil
}

// Sub returns m-n, or a KindOverflow error when it does not fit.
func (m Micro) Sub(n Micro) (Micro, error) {
	s := m - n
	if (n > 0 && s > m) || (n < 0 && s < m) {
		return 0, errorf("", KindOverflow, m.String()+" - "+n.String()+" does not fit in an int64 of micro-USD")
	}
	return s, nil
}

// Mul returns m*k, or a KindOverflow error when it does not fit.
func (m Micro) Mul(k int64) (Micro, error) {
	if m == 0 || k == 0 {
		return 0, nil
	}
	p := m * Micro(k)
	if p/Micro(k) != m || (m == -1 && k == math.MinInt64) || (k == -1 && m == math.MinInt64) {
		return 0, errorf("", KindOverflow, m.String()+" × "+strconv.FormatInt(k, 10)+" does not fit in an int64 of micro-USD")
	}
	return p, nil
}

// String formats m in dollars with all six decimals: "$9.000000", "-$0.000001".
func (m Micro) String() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u // two's complement: also right for math.MinInt64
	}
	frac := strconv.FormatUint(u%1_000_000, 10)
	for len(frac) < 6 {
		frac = "0" + frac
	}
	s := "$" + strconv.FormatUint(u/1_000_000, 10) + "." + frac
	if neg {
		return "-" + s
	}
	return s
}

// USDP base units: USDP has 18 decimals, so one micro-USD is 10^12 base
// units (1 USDP is taken as 1 USD).
var unitsPerMicro = big.NewInt(1_000_000_000_000)

// FromUSDP converts an amount of USDP base units (18 decimals) into Micro,
// exactly: micro = floor(baseUnits / 10^12) and the sub-micro remainder
// (0 ≤ remainder < 10^12 base units) is returned so that the caller can
// record it; nothing is rounded away silently. Negative or nil amounts are
// KindInvalid; amounts above MaxMicro are KindOverflow.
func FromUSDP(baseUnits *big.Int) (Micro, *big.Int, error) {
	const op = "chaincode.FromUSDP"
	if baseUnits == nil {
		return 0, nil, errorf(op, KindInvalid, "no amount given")
	}
	if baseUnits.Sign() < 0 {
		return 0, nil, errorf(op, KindInvalid, "a USDP amount cannot be negative: "+baseUnits.String())
	}
	q, r := new(big.Int).QuoRem(baseUnits, unitsPerMicro, new(big.Int))
	if !q.IsInt64() {
		return 0, nil, errorf(op, KindOverflow, baseUnits.String()+" USDP base units exceed "+MaxMicro.String())
	}
	return Micro(q.Int64()), r, nil
}

// ToUSDP converts m into USDP base units (m × 10^12), exactly.
func ToUSDP(m Micro) *big.Int {
	return new(big.Int).Mul(big.NewInt(int64(m)), unitsPerMicro)
}
