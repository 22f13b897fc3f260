package server

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The OpenAPI document is generated from the route table and the Go types
// the handlers encode, so it always matches what the node serves.

var (
	specOnce sync.Once
	spec     map[string]any
)

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	specOnce.Do(func() { spec = OpenAPI(s.routes) })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, spec)
	return nil
}

// Routes returns the API's route table as "METHOD /path" strings.
func (s *Server) Routes() []string {
	if s.routes == nil {
		s.Handler()
	}
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.Method + " " + rt.Path
	}
	return out
}

// Spec returns the OpenAPI document of the API.
func (s *Server) Spec() map[string]any {
	if s.routes == nil {
		s.Handler()
	}
	return OpenAPI(s.routes)
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

var queryDocs = map[string]string{
	"limit":     "page size, 1–200 (default 50)",
	"offset":    "number of items to skip",
	"q":         "full-text search (prefix match on every word)",
	"artist_id": "only this artist's items",
	"album_id":  "only this album's tracks, in track order",
	"all":       "1 to include hidden, processing and failed tracks (admins only)",
	"handle":    "an actor on another server: @name@host or its URL",
}

// OpenAPI builds the OpenAPI 3.0 document of routes.
func OpenAPI(routes []route) map[string]any {
	schemas := map[string]any{
		"Problem": schemaOf(reflect.TypeOf(Problem{}), nil),
	}
	paths := map[string]any{}
	for _, rt := range routes {
		op := map[string]any{
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/api/v1/", "", "/", "_", "{", "", "}", "", ".", "_").Replace(rt.Path),
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			t := "integer"
			if m[1] == "session" || m[1] == "host" || m[1] == "kind" {
				t = "string"
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": t}})
		}
		for _, q := range rt.Query {
			t := "integer"
			if q == "q" || q == "all" || q == "handle" {
				t = "string"
			}
			params = append(params, map[string]any{"name": q, "in": "query", "description": queryDocs[q], "schema": map[string]any{"type": t}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != nil {
			ct := "application/json"
			if rt.Multipart {
				ct = "multipart/form-data"
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				ct: map[string]any{"schema": ref(reflect.TypeOf(rt.Body), schemas)},
			}}
		}
		ok := map[string]any{"description": http.StatusText(rt.Status)}
		if rt.Resp != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(reflect.TypeOf(rt.Resp), schemas)}}
		} else if rt.Path == "/api/v1/openapi.json" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		op["responses"] = map[string]any{
			strconv.Itoa(rt.Status): ok,
			"default": map[string]any{"description": "an RFC 9457 problem", "content": map[string]any{
				"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}},
			}},
		}
		if rt.Auth != "" {
			op["security"] = []any{map[string]any{"session": []string{}}, map[string]any{"token": []string{}}}
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "9ten node API",
			"version":     "1",
			"description": "Catalog, uploads, playback sessions and accounts of a 9ten node. Errors are RFC 9457 problem documents.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
				"token":   map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
}

// schemaName turns a Go type name into a schema name: trackJSON → Track.
func schemaName(t reflect.Type) string {
	n := strings.TrimSuffix(t.Name(), "JSON")
	return strings.ToUpper(n[:1]) + n[1:]
}

// ref returns a $ref to t's schema, adding it (and what it uses) to schemas.
func ref(t reflect.Type, schemas map[string]any) map[string]any {
	name := schemaName(t)
	if _, ok := schemas[name]; !ok {
		schemas[name] = nil // reserve against recursion
		schemas[name] = schemaOf(t, schemas)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

var timeType = reflect.TypeOf(time.Time{})

func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	if t.Kind() == reflect.Pointer {
		s := schemaOf(t.Elem(), schemas)
		if r, ok := s["$ref"]; ok {
			return map[string]any{"allOf": []any{map[string]any{"$ref": r}}, "nullable": true}
		}
		s["nullable"] = true
		return s
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object"}
	case t.Kind() == reflect.Struct && schemas != nil && t.Name() != "" && t != reflect.TypeOf(Problem{}):
		// Named structs nested in others become shared components.
		if _, top := schemas[schemaName(t)]; !top {
			return ref(t, schemas)
		}
	}
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := schemaOf(f.Type, schemas)
		if fmtTag := f.Tag.Get("format"); fmtTag != "" {
			p = map[string]any{"type": "string", "format": fmtTag}
		}
		props[name] = p
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if required != nil {
		s["required"] = required
	}
	return s
}
