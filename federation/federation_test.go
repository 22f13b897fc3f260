package federation

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestBase58(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"Hello World!":                 "2NEpo7TZRRrLZSi2U",
		"\x00\x00\x00\x28\x7f\xb4\xcd": "111233QC4",
		"\x00":                         "1",
	} {
		if got := base58([]byte(in)); got != want {
			t.Errorf("base58(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWantsActivity(t *testing.T) {
	for accept, want := range map[string]bool{
		"application/activity+json": true,
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`: true,
		"application/ld+json": true,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": false,
		"application/json": false,
		"":                 false,
		`application/ld+json; profile="http://example.com/other"`: false,
		`text/html;q=0.1, application/activity+json`:              true,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsActivity(r); got != want {
			t.Errorf("wantsActivity(%q) = %v, want %v", accept, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]int64{`"PT245S"`: 245_000, `"PT4M5S"`: 245_000, `"PT1H0M1.5S"`: 3_601_500, `245`: 245_000, `"P1D"`: 0, `"PTxS"`: 0, `null`: 0} {
		if got := parseDuration(json.RawMessage(in)); got != want {
			t.Errorf("parseDuration(%s) = %d, want %d", in, got, want)
		}
	}
}

func TestPlainText(t *testing.T) {
	in := `<p>New track: <a href="x">Say &#34;Hi&#34; &amp; go</a> by <b>Me</b></p><p>two</p>`
	if got, want := plainText(in), "New track: Say \"Hi\" & go by Me\ntwo"; got != want {
		t.Errorf("plainText = %q, want %q", got, want)
	}
}
