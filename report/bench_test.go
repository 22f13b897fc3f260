package report

import (
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"testing"

	nineten "nineten.dev"
	agecipher "nineten.dev/seal"
)

// BenchmarkDaily aggregates, encodes and seals a day of 100,000
// listeners who each heard 4 tracks of 2,000 artists (400,000 listener ×
// track rows), the work of a daily report after its query.
func BenchmarkDaily(b *testing.B) {
	cipher, err := agecipher.Load(filepath.Join(b.TempDir(), "node.age"))
	if err != nil {
		b.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	s := &Service{Secret: secret, Cipher: cipher, Node: "bench.test"}
	var rows []nineten.DayListening
	for u := range 100_000 {
		for k := range 4 {
			track := nineten.ID((u*7 + k*13) % 20_000)
			rows = append(rows, nineten.DayListening{UserID: nineten.ID(u + 1), TrackID: track + 1, ArtistID: track/10 + 1, Listens: 1, HeardMS: 60_000})
		}
	}
	p := s.pseudonymsOf("2026-11")
	for b.Loop() {
		d := &Daily{Format: dailyFormat, Node: s.Node, Day: "2026-11-03", Pseudonyms: p.ID}
		d.Tracks, d.Artists, d.Listening, d.Totals = aggregate(rows, p)
		plain, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		h := Header{ID: "daily-2026-11-03", Kind: "daily", Node: s.Node, Day: d.Day, Recipients: []string{cipher.Recipient()},
			Summary: summarize(DefaultK, d.Totals, d.Tracks, d.Artists)}
		if _, _, err := seal(h, plain, cipher, s.signingKey()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(plain))/1e6, "MB-plaintext")
	}
}

// BenchmarkCompile sums 30 dailies of 50,000 listener × artist lines each
// (the same 25,000 listeners every day) into a month.
func BenchmarkCompile(b *testing.B) {
	p := pseudonyms{key: []byte("bench"), ID: "bench"}
	var dailies []*Daily
	for d := range 30 {
		var rows []nineten.DayListening
		for u := range 25_000 {
			for k := range 2 {
				rows = append(rows, nineten.DayListening{UserID: nineten.ID(u + 1), TrackID: nineten.ID((u+d+k*7)%5_000 + 1), ArtistID: nineten.ID((u+d+k*7)%500 + 1), Listens: 1, HeardMS: 45_000})
			}
		}
		day := &Daily{Format: dailyFormat, Node: "bench.test", Pseudonyms: p.ID}
		day.Tracks, day.Artists, day.Listening, day.Totals = aggregate(rows, p)
		dailies = append(dailies, day)
	}
	for b.Loop() {
		m := Compile("bench.test", "2026-11", p.ID, nil, dailies)
		b.ReportMetric(float64(len(m.Listening)), "month-lines")
	}
}
