package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"nineten.dev/server"
)

// TestOpenAPIDocumentIsValidAndComplete loads the generated document with
// an independent OpenAPI implementation and checks that it describes every
// route the server registers, with the fields clients rely on.
func TestOpenAPIDocumentIsValidAndComplete(t *testing.T) {
	s := &server.Server{}
	raw, err := json.Marshal(s.Spec())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	routes := s.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes", len(routes))
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			n++
			found := false
			for _, r := range routes {
				found = found || r == method+" "+path
			}
			if !found {
				t.Errorf("documented %s %s is not served", method, path)
			}
		}
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		if doc.Paths.Find(path) == nil || doc.Paths.Find(path).GetOperation(method) == nil {
			t.Errorf("served %s is not documented", r)
		}
	}
	if n != len(routes) {
		t.Errorf("%d documented operations, %d routes", n, len(routes))
	}
	track := doc.Components.Schemas["Track"].Value
	for _, f := range []string{"id", "title", "artist", "album", "duration_ms", "hls_url", "original_url"} {
		if track.Properties[f] == nil || !slices.Contains(track.Required, f) {
			t.Errorf("Track schema lacks required %q", f)
		}
	}
	list := doc.Paths.Find("/api/v1/tracks").Get
	if list.Parameters.GetByInAndName("query", "limit") == nil || list.Responses.Status(200) == nil {
		t.Error("GET /api/v1/tracks lacks paging or its 200 response")
	}
}
