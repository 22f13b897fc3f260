package federation

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"nineten.dev/federation/httpsig"
)

// A delivery captured and sent again, byte for byte, is refused; the same
// activity signed afresh is accepted (and kept once).
func TestInboxRefusesReplayedRequests(t *testing.T) {
	w := newFediverse(t)
	actor := w.standIn("replay.example") + "/users/sender"
	w.sender(actor)
	body, _ := json.Marshal(map[string]any{"@context": asContext, "id": actor + "/likes/1", "type": "Like", "actor": actor, "object": w.artistIRI()})
	sign := func(at time.Time) *http.Request {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.node.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", activityJSON)
		if err := httpsig.SignCavage(req, body, httpsig.Key{ID: actor + "#main-key", Private: w.key}, at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	send := func(req *http.Request) (int, string) {
		req.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(msg)
	}
	captured := sign(time.Now().Add(-time.Minute))
	if code, msg := send(captured.Clone(t.Context())); code != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", code, msg)
	}
	if code, msg := send(captured.Clone(t.Context())); code != http.StatusUnauthorized || !bytes.Contains([]byte(msg), []byte("delivered already")) {
		t.Fatalf("replayed delivery: %d %s", code, msg)
	}
	if code, msg := send(sign(time.Now())); code != http.StatusAccepted {
		t.Fatalf("the same activity signed afresh: %d %s", code, msg)
	}
}
