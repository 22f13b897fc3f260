package chaincode

import (
	"strconv"
)

// Anchor is one version of a listening report's hash on the ledger: the
// report id ("daily-2026-11-03", "monthly-2026-11"), the day (YYYY-MM-DD) or
// month (YYYY-MM) it covers, the SHA-256 of the signed report (64 hex
// digits) and the key that signed it.
type Anchor struct {
	Node    string `json:"node"`
	ID      string `json:"id"`
	Day     string `json:"day"`
	Hash    string `json:"hash"`
	Signer  string `json:"signer"`
	Version int    `json:"version"`
	// Final is set by ReportAnchors when the report's month is settled: no
	// other version will be anchored.
	Final bool `json:"final,omitempty"`
}

type anchorVersion struct {
	Hash   string `json:"hash"`
	Signer string `json:"signer"`
}

type anchorRecord struct {
	Node     string          `json:"node"`
	ID       string          `json:"id"`
	Day      string          `json:"day"`
	Versions []anchorVersion `json:"versions"`
}

func anchorKey(node, id string) string { return keyAnchor + node + "/" + id }

// AnchorReport records the hash of node's report id. It is idempotent: when
// hash is the latest version's, nothing is written and that version is
// returned. Another hash becomes the next version (a day re-run after
// listens were verified late, or after a review cleared some), so the
// ledger keeps every hash a report ever had — unless the report's month is
// settled: what was paid from is final, and a new version is refused with
// KindConflict. An anchored id keeps its day.
func (Contract) AnchorReport(st State, node, id, day, hash, signer string) (Anchor, error) {
	const op = "chaincode.AnchorReport"
	if err := firstErr(checkID(op, "node", node), checkID(op, "report id", id), checkDay(op, day), checkHash(op, hash), checkSigner(op, signer)); err != nil {
		return Anchor{}, err
	}
	s := begin(st, op, node)
	rec := anchorRecord{Node: node, ID: id, Day: day}
	found, err := s.getJSON(anchorKey(node, id), &rec)
	if err != nil {
		return Anchor{}, wrap(op, err)
	}
	if found {
		if rec.Day != day {
			return Anchor{}, errorf(op, KindConflict, "report "+id+" of "+node+" was anchored for "+rec.Day+", not "+day)
		}
		last := rec.Versions[len(rec.Versions)-1]
		if last.Hash == hash && last.Signer == signer {
			return rec.anchor(len(rec.Versions)), nil
		}
		n, err := s.nodeRecord()
		if err != nil {
			return Anchor{}, wrap(op, err)
		}
		if n.LastSettled != "" && day[:7] <= n.LastSettled {
			return Anchor{}, errorf(op, KindConflict, "report "+id+" of "+node+" is anchored already and "+day[:7]+
				" is settled: the listening it was paid from cannot change (version "+strconv.Itoa(len(rec.Versions))+" stays)")
		}
	}
	rec.Versions = append(rec.Versions, anchorVersion{Hash: hash, Signer: signer})
	if err := s.putJSON(anchorKey(node, id), rec); err != nil {
		return Anchor{}, err
	}
	a := rec.anchor(len(rec.Versions))
	return a, s.commit(Notice{Op: "anchorReport", Ref: id + "@" + strconv.Itoa(a.Version), Status: hash})
}

// ReportAnchors returns every version of the anchor of node's report id,
// oldest first, each Final when the report's month is settled; none when
// it was never anchored.
func (Contract) ReportAnchors(st State, node, id string) ([]Anchor, error) {
	const op = "chaincode.ReportAnchors"
	if err := firstErr(checkID(op, "node", node), checkID(op, "report id", id)); err != nil {
		return nil, err
	}
	s := begin(st, op, node)
	var rec anchorRecord
	found, err := s.getJSON(anchorKey(node, id), &rec)
	if err != nil || !found {
		return nil, wrap(op, err)
	}
	n, err := s.nodeRecord()
	if err != nil {
		return nil, wrap(op, err)
	}
	out := make([]Anchor, len(rec.Versions))
	for i := range rec.Versions {
		out[i] = rec.anchor(i + 1)
		out[i].Final = n.LastSettled != "" && rec.Day[:7] <= n.LastSettled
	}
	return out, nil
}

func (r anchorRecord) anchor(version int) Anchor {
	v := r.Versions[version-1]
	return Anchor{Node: r.Node, ID: r.ID, Day: r.Day, Hash: v.Hash, Signer: v.Signer, Version: version}
}

// checkDay accepts a day YYYY-MM-DD (01–31) or a month YYYY-MM.
func checkDay(op, day string) error {
	ok := validPeriod(day)
	if len(day) == 10 && validPeriod(day[:7]) && day[7] == '-' {
		d := day[8:]
		ok = d[0] >= '0' && d[0] <= '3' && d[1] >= '0' && d[1] <= '9' && d != "00" && d <= "31"
	}
	if !ok {
		return errorf(op, KindInvalid, "day "+strconv.Quote(day)+" is neither YYYY-MM-DD nor YYYY-MM")
	}
	return nil
}

func checkHash(op, hash string) error {
	ok := len(hash) == 64
	for i := 0; ok && i < len(hash); i++ {
		c := hash[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
	}
	if !ok {
		return errorf(op, KindInvalid, "hash "+strconv.Quote(hash)+" is not a SHA-256 in 64 lowercase hex digits")
	}
	return nil
}

// checkSigner accepts a key named "<algorithm>:<printable ASCII>".
func checkSigner(op, signer string) error {
	ok := len(signer) > 0 && len(signer) <= 128
	colon := false
	for i := 0; ok && i < len(signer); i++ {
		c := signer[i]
		colon = colon || c == ':'
		ok = c > ' ' && c < 0x7f
	}
	if !ok || !colon {
		return errorf(op, KindInvalid, "signer "+strconv.Quote(signer)+" is not a key written <algorithm>:<key>")
	}
	return nil
}
