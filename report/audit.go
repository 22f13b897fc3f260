package report

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	nineten "nineten.dev"
)

// An audit bundle is a gzipped tar of one month of one node:
//
//	manifest.json        what is in it: node, month, signer, Merkle root, every file's SHA-256
//	manifest.sig         Ed25519 signature (base64) of the manifest by the node's report key
//	reports/<id>.9tr     the monthly report and its dailies, as signed and anchored
//	ledger/anchors.json  every version the ledger anchors of each of those reports
//	ledger/events.json   the month's ledger transactions, artists' credits only (no listener)
//	attestations/<n>.json  each cluster peer's signed attestation of the month's monthly
//	                     report, with the key its actor published (BundleAttestation)
//	lines.json           the Merkle tree's lines: one per report, one per artist (listening
//	                     left out, like in the reports' summaries, when fewer than k heard them)
//	proofs.json          each line's Merkle proof
//
// An artist checks their own line (listening and earnings) with its proof
// against the signed root, and their earnings against the ledger's credits.

const (
	bundleFormat = "9ten-audit/1"
	bundleCtx    = "9ten audit bundle\n"
	// maxBundleFile bounds what VerifyBundle reads of one file.
	maxBundleFile = 1 << 30
)

// Manifest is a bundle's table of contents, signed.
type Manifest struct {
	Format       string       `json:"format"`
	Node         string       `json:"node"`
	Month        string       `json:"month"`
	Signer       string       `json:"signer"`
	MerkleRoot   string       `json:"merkle_root"`
	Lines        int          `json:"lines"`
	Files        []BundleFile `json:"files"`
	Attestations int          `json:"attestations"`
}

// BundleFile is one file of a bundle and its SHA-256.
type BundleFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// AuditLine is one line of the Merkle tree: a report, or an artist's
// month (listening from the monthly report, earnings from the ledger).
type AuditLine struct {
	Kind      string        `json:"kind"` // report or artist
	ID        string        `json:"id,omitempty"`
	Hash      string        `json:"hash,omitempty"`
	Version   int           `json:"version,omitempty"`
	Artist    string        `json:"artist,omitempty"` // <node>/<artist id>
	Listens   int64         `json:"listens,omitempty"`
	HeardMS   int64         `json:"heard_ms,omitempty"`
	Listeners int64         `json:"listeners,omitempty"`
	Earned    nineten.Micro `json:"earned,omitempty"`
	SettleTxs []uint64      `json:"settle_txs,omitempty"`
	// Suppressed: fewer listeners than the node's k heard the artist that
	// month, so their listening is left out (their earnings are not).
	Suppressed bool `json:"suppressed,omitempty"`
}

// LedgerEvent is a ledger transaction of the month as a bundle shows it:
// who was credited what, without the listener it came from.
type LedgerEvent struct {
	Seq     uint64             `json:"seq"`
	Op      string             `json:"op"`
	Amount  nineten.Micro      `json:"amount"` // the transaction's total
	Credits []nineten.MoneyLeg `json:"credits,omitempty"`
}

// BundleAttestation is a peer's signed attestation of the month's report
// in a bundle, with the key that signed it as the exporting node fetched
// it from the peer's node actor: the bundle is checked offline, and an
// auditor compares the key with the peer's published one.
type BundleAttestation struct {
	Peer        string          `json:"peer"`       // the peer's node actor
	KeyID       string          `json:"key_id"`     // the proof's verificationMethod
	PublicKey   string          `json:"public_key"` // hex Ed25519
	Attestation json.RawMessage `json:"attestation"`
}

// ProofCheck checks the object integrity proof (FEP-8b32) of a signed
// document with pub; the node passes federation.VerifyProof.
type ProofCheck func(doc []byte, pub ed25519.PublicKey) error

// CheckedAttestation is what VerifyBundle found in one attestation.
type CheckedAttestation struct {
	Peer, KeyID, PublicKey, Verdict string
	Findings                        []string
}

// attestationFields are the fields of an attestation a bundle checks.
type attestationFields struct {
	Type         string   `json:"type"`
	AttributedTo string   `json:"attributedTo"`
	Object       string   `json:"object"`
	Month        string   `json:"month"`
	ReportHash   string   `json:"reportHash"`
	Verdict      string   `json:"verdict"`
	Findings     []string `json:"findings"`
	Proof        struct {
		VerificationMethod string `json:"verificationMethod"`
	} `json:"proof"`
}

// attestations reads the peers' attestations of month's report (hash) as
// the node stored them, each with its signer's key.
func (s *Service) attestations(ctx context.Context, month nineten.Period, hash string) ([]BundleAttestation, error) {
	reviews, err := s.Store.Reviews(ctx, month, nineten.ReviewAsked)
	if err != nil {
		return nil, err
	}
	var out []BundleAttestation
	for _, r := range reviews {
		if len(r.Attestation) == 0 || r.ReportHash != hash {
			continue // none yet, or of an earlier version of the report
		}
		var f attestationFields
		if err := json.Unmarshal(r.Attestation, &f); err != nil || f.Proof.VerificationMethod == "" {
			return nil, fmt.Errorf("the stored attestation of %s is not a signed document", r.Peer)
		}
		if s.PeerKey == nil {
			return nil, errors.New("this node cannot fetch its peers' keys to include their attestations")
		}
		pub, err := s.PeerKey(ctx, f.Proof.VerificationMethod)
		if err != nil {
			return nil, fmt.Errorf("fetching the key of %s's attestation (%s), needed to check it offline: %w; try again when it answers", r.Peer, f.Proof.VerificationMethod, err)
		}
		out = append(out, BundleAttestation{Peer: r.Peer, KeyID: f.Proof.VerificationMethod, PublicKey: hex.EncodeToString(pub), Attestation: r.Attestation})
	}
	slices.SortFunc(out, func(a, b BundleAttestation) int { return strings.Compare(a.Peer, b.Peer) })
	return out, nil
}

type proof struct {
	Line  int      `json:"line"`
	Proof []string `json:"proof"`
}

// Export writes the audit bundle of month to w. The month's monthly report
// must pass its checks (run 9ten report monthly first).
func (s *Service) Export(ctx context.Context, month nineten.Period, w io.Writer) (*Manifest, error) {
	const op = "report.Export"
	c, err := s.Check(ctx, month)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, nineten.E(op, nineten.KindNotFound, "the month "+string(month)+" has no monthly report yet: make it with 9ten report monthly --month "+string(month))
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if err := c.Err(); err != nil {
		return nil, nineten.E(op, err)
	}
	files := map[string][]byte{}
	var lines []AuditLine
	var anchors []nineten.ReportAnchor
	ids := []string{c.Report.ID}
	for _, d := range c.Monthly.Dailies {
		ids = append(ids, d.ID)
	}
	for _, id := range ids {
		r, err := s.Store.Report(ctx, id)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		files["reports/"+id+".9tr"] = r.File
		lines = append(lines, AuditLine{Kind: "report", ID: id, Hash: r.Hash, Version: r.Version})
		all, err := s.Ledger.ReportAnchors(ctx, id)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		anchors = append(anchors, all...)
	}

	atts, err := s.attestations(ctx, month, c.Report.Hash)
	if err != nil {
		return nil, nineten.E(op, nineten.KindUnavailable, err)
	}
	for i, a := range atts {
		if files[fmt.Sprintf("attestations/%d.json", i+1)], err = json.MarshalIndent(a, "", " "); err != nil {
			return nil, nineten.E(op, err)
		}
	}

	var events []LedgerEvent
	earned := map[string]nineten.Micro{}
	settleTxs := map[string][]uint64{}
	err = s.Ledger.Transactions(ctx, "", func(tx nineten.MoneyTx) error {
		if tx.Period != month {
			return nil
		}
		e := LedgerEvent{Seq: tx.Seq, Op: tx.Op}
		for _, l := range tx.Outputs {
			e.Amount += l.Amount
			if strings.HasPrefix(l.Account, string(nineten.AccountArtist)+":") {
				e.Credits = append(e.Credits, l)
				a := strings.TrimPrefix(l.Account, string(nineten.AccountArtist)+":")
				earned[a] += l.Amount
				if s := settleTxs[a]; len(s) == 0 || s[len(s)-1] != tx.Seq {
					settleTxs[a] = append(s, tx.Seq)
				}
			}
		}
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	artists := map[string]AuditLine{}
	for _, g := range c.Monthly.Artists {
		a := g.artist().account(s.Node)
		if g.Listeners < int64(s.k()) {
			// A bundle goes to auditors and artists: small groups stay out.
			artists[a] = AuditLine{Kind: "artist", Artist: a, Suppressed: true}
			continue
		}
		artists[a] = AuditLine{Kind: "artist", Artist: a, Listens: g.Listens, HeardMS: g.HeardMS, Listeners: g.Listeners}
	}
	for a, m := range earned {
		l := artists[a]
		l.Kind, l.Artist, l.Earned, l.SettleTxs = "artist", a, m, settleTxs[a]
		artists[a] = l
	}
	names := make([]string, 0, len(artists))
	for a := range artists {
		names = append(names, a)
	}
	slices.Sort(names)
	for _, a := range names {
		lines = append(lines, artists[a])
	}

	leaves := make([][]byte, len(lines))
	for i, l := range lines {
		b, _ := json.Marshal(l)
		leaves[i] = leafHash(b)
	}
	proofs := make([]proof, len(lines))
	for i := range lines {
		p := proof{Line: i, Proof: []string{}}
		for _, h := range merkleProof(i, leaves) {
			p.Proof = append(p.Proof, hex.EncodeToString(h))
		}
		proofs[i] = p
	}
	for name, v := range map[string]any{"ledger/anchors.json": anchors, "ledger/events.json": events, "lines.json": lines, "proofs.json": proofs} {
		if files[name], err = json.MarshalIndent(v, "", " "); err != nil {
			return nil, nineten.E(op, err)
		}
	}
	m := &Manifest{Format: bundleFormat, Node: s.Node, Month: string(month), Signer: s.Signer(),
		MerkleRoot: hex.EncodeToString(merkleRoot(leaves)), Lines: len(lines), Attestations: len(atts)}
	for name, b := range files {
		sum := sha256.Sum256(b)
		m.Files = append(m.Files, BundleFile{Path: name, SHA256: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(m.Files, func(a, b BundleFile) int { return strings.Compare(a.Path, b.Path) })
	mj, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, nineten.E(op, err)
	}
	sum := sha256.Sum256(mj)
	sig := ed25519.Sign(s.signingKey(), append([]byte(bundleCtx), sum[:]...))
	files["manifest.json"] = mj
	files["manifest.sig"] = []byte(base64Std(sig) + "\n")
	if err := writeTarGz(w, files); err != nil {
		return nil, nineten.E(op, err)
	}
	return m, nil
}

func writeTarGz(w io.Writer, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// BundleCheck is what VerifyBundle found intact.
type BundleCheck struct {
	Manifest Manifest
	Reports  int
	Events   int
	// Artist is the requested artist's line, proved against the root.
	Artist *AuditLine
	// Attestations are the peers' attestations of the monthly report,
	// each signature checked.
	Attestations []CheckedAttestation
}

// VerifyBundle checks an audit bundle offline: the manifest's signature,
// every file's hash, every report's signature (by the manifest's signer)
// and that each is the latest version the ledger anchors, the Merkle root
// over the lines and every proof, that each artist's earnings are their
// credits in the month's ledger events, and that the published listening
// of the monthly report is the artists' lines, and that each peer
// attestation is signed (checked with check) by the key it carries and
// attests this month's monthly report, by hash. With artist ("<node>/<id>"
// or the id) it returns that artist's line, proved.
func VerifyBundle(r io.Reader, artist string, check ProofCheck) (*BundleCheck, error) {
	const op = "report.VerifyBundle"
	bad := func(format string, args ...any) error {
		return nineten.E(op, nineten.KindPermission, "the audit bundle does not verify: "+fmt.Sprintf(format, args...))
	}
	files, err := readTarGz(r)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "not an audit bundle (a .tar.gz written by 9ten audit export)", err)
	}
	var m Manifest
	if err := decodeStrict(files["manifest.json"], &m); err != nil || m.Format != bundleFormat {
		return nil, bad("its manifest.json is missing or not a %s manifest", bundleFormat)
	}
	pub, err := ParseSigner(m.Signer)
	if err != nil {
		return nil, bad("the manifest's signer: %v", err)
	}
	sig, err := base64StdDecode(strings.TrimSpace(string(files["manifest.sig"])))
	sum := sha256.Sum256(files["manifest.json"])
	if err != nil || !ed25519.Verify(pub, append([]byte(bundleCtx), sum[:]...), sig) {
		return nil, bad("the manifest's signature does not match: the manifest was altered or signed by another key")
	}
	listed := map[string]bool{"manifest.json": true, "manifest.sig": true}
	for _, f := range m.Files {
		listed[f.Path] = true
		b, ok := files[f.Path]
		if !ok {
			return nil, bad("%s is missing", f.Path)
		}
		if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != f.SHA256 {
			return nil, bad("%s was altered (its SHA-256 is not the manifest's)", f.Path)
		}
	}
	for name := range files {
		if !listed[name] {
			return nil, bad("%s is not in the manifest", name)
		}
	}
	c := &BundleCheck{Manifest: m}

	var anchors []nineten.ReportAnchor
	var lines []AuditLine
	var proofs []proof
	var events []LedgerEvent
	for name, v := range map[string]any{"ledger/anchors.json": &anchors, "lines.json": &lines, "proofs.json": &proofs, "ledger/events.json": &events} {
		if err := json.Unmarshal(files[name], v); err != nil {
			return nil, bad("%s is not readable: %v", name, err)
		}
	}
	latest := map[string]nineten.ReportAnchor{}
	for _, a := range anchors {
		if a.Version > latest[a.ID].Version {
			latest[a.ID] = a
		}
	}

	leaves := make([][]byte, len(lines))
	for i, l := range lines {
		b, _ := json.Marshal(l)
		leaves[i] = leafHash(b)
	}
	root := merkleRoot(leaves)
	if hex.EncodeToString(root) != m.MerkleRoot || len(lines) != m.Lines {
		return nil, bad("the lines do not make the manifest's Merkle root")
	}
	if len(proofs) != len(lines) {
		return nil, bad("there are %d proofs for %d lines", len(proofs), len(lines))
	}
	for i, p := range proofs {
		if p.Line != i || !verifyProof(i, len(lines), leaves[i], unhexAll(p.Proof), root) {
			return nil, bad("the Merkle proof of line %d does not verify", i)
		}
	}

	var monthly *File
	for _, l := range lines {
		if l.Kind != "report" {
			continue
		}
		f, err := Parse(files["reports/"+l.ID+".9tr"])
		if err != nil {
			return nil, bad("report %s: %v", l.ID, err)
		}
		if err := f.Verify(pub); err != nil {
			return nil, bad("report %s: %v", l.ID, err)
		}
		a := latest[l.ID]
		if f.Hash != l.Hash || a.Hash != f.Hash || a.Signer != m.Signer || a.Version != l.Version {
			return nil, bad("report %s (hash %s) is not the latest version the ledger anchors (version %d, %s)", l.ID, f.Hash, a.Version, a.Hash)
		}
		if f.Header.Kind == string(nineten.ReportMonthly) {
			monthly = f
		}
		c.Reports++
	}
	if monthly == nil || monthly.Header.Day != m.Month || monthly.Header.Node != m.Node {
		return nil, bad("the monthly report of %s is missing", m.Month)
	}
	if c.Attestations, err = verifyAttestations(files, m, monthly, lines, check); err != nil {
		return nil, bad("%v", err)
	}

	credits := map[string]nineten.Micro{}
	creditTxs := map[string][]uint64{}
	for _, e := range events {
		for _, l := range e.Credits {
			a := strings.TrimPrefix(l.Account, string(nineten.AccountArtist)+":")
			credits[a] += l.Amount
			if s := creditTxs[a]; len(s) == 0 || s[len(s)-1] != e.Seq {
				creditTxs[a] = append(s, e.Seq)
			}
		}
	}
	c.Events = len(events)
	byArtist := map[string]AuditLine{}
	for _, l := range lines {
		if l.Kind != "artist" {
			continue
		}
		if l.Earned != credits[l.Artist] || !slices.Equal(l.SettleTxs, creditTxs[l.Artist]) {
			return nil, bad("artist %s's line says %s earned, the ledger's events credit %s", l.Artist, l.Earned, credits[l.Artist])
		}
		byArtist[l.Artist] = l
	}
	for a := range credits {
		if _, ok := byArtist[a]; !ok {
			return nil, bad("the ledger credits artist %s, who has no line", a)
		}
	}
	for _, g := range monthly.Header.Summary.Artists {
		l := byArtist[g.artist().account(m.Node)]
		if l.Listens != g.Listens || l.HeardMS != g.HeardMS || l.Listeners != g.Listeners {
			return nil, bad("artist %s's line is not the listening the monthly report publishes", g.artist().account(m.Node))
		}
	}
	if artist != "" {
		if !strings.Contains(artist, "/") {
			artist = m.Node + "/" + artist
		}
		l, ok := byArtist[artist]
		if !ok {
			return nil, nineten.E(op, nineten.KindNotFound, "artist "+artist+" has no line in this bundle: no listening and no earnings in "+m.Month)
		}
		c.Artist = &l
	}
	return c, nil
}

// verifyAttestations checks every attestations/ file: its proof, by the
// key it carries, whose id is on the attesting peer's host; and that it
// attests the bundle's monthly report (month, id and hash).
func verifyAttestations(files map[string][]byte, m Manifest, monthly *File, lines []AuditLine, check ProofCheck) ([]CheckedAttestation, error) {
	var names []string
	for name := range files {
		if strings.HasPrefix(name, "attestations/") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) != m.Attestations {
		return nil, fmt.Errorf("the manifest lists %d attestations, the bundle holds %d", m.Attestations, len(names))
	}
	var report AuditLine
	for _, l := range lines {
		if l.Kind == "report" && l.Hash == monthly.Hash {
			report = l
		}
	}
	var out []CheckedAttestation
	for _, name := range names {
		var a BundleAttestation
		if err := decodeStrict(files[name], &a); err != nil {
			return nil, fmt.Errorf("%s is not readable: %v", name, err)
		}
		var f attestationFields
		if err := json.Unmarshal(a.Attestation, &f); err != nil {
			return nil, fmt.Errorf("%s: the attestation is not readable: %v", name, err)
		}
		pub, err := hex.DecodeString(a.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: the key is not a hex Ed25519 public key", name)
		}
		actor, _, _ := strings.Cut(a.KeyID, "#")
		if f.Type != "ReportAttestation" || f.AttributedTo != a.Peer || actor != a.Peer || f.Proof.VerificationMethod != a.KeyID {
			return nil, fmt.Errorf("%s is not a ReportAttestation by %s signed with its key %s", name, a.Peer, a.KeyID)
		}
		if check == nil {
			return nil, fmt.Errorf("%s: no way to check attestations' signatures was given", name)
		}
		if err := check(a.Attestation, pub); err != nil {
			return nil, fmt.Errorf("the attestation of %s (%s) is not signed by its key: it was altered or forged (%v)", a.Peer, name, err)
		}
		if f.Month != m.Month || f.ReportHash != report.Hash || report.Hash == "" || !strings.HasSuffix(f.Object, "/"+report.ID) {
			return nil, fmt.Errorf("the attestation of %s (%s) attests report %s of %s (hash %s), not this bundle's monthly report %s (hash %s)", a.Peer, name, f.Object, f.Month, f.ReportHash, report.ID, report.Hash)
		}
		out = append(out, CheckedAttestation{Peer: a.Peer, KeyID: a.KeyID, PublicKey: a.PublicKey, Verdict: f.Verdict, Findings: f.Findings})
	}
	return out, nil
}

func readTarGz(r io.Reader) (map[string][]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxBundleFile {
			return nil, fmt.Errorf("%s is not a regular file of at most 1 GiB", h.Name)
		}
		if _, dup := files[h.Name]; dup {
			return nil, fmt.Errorf("%s is in the bundle twice", h.Name)
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, tr); err != nil {
			return nil, err
		}
		files[h.Name] = b.Bytes()
	}
}

func unhexAll(hs []string) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i], _ = hex.DecodeString(h)
	}
	return out
}
