package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	nineten "nineten.dev"
)

// Problem is an RFC 9457 problem document: every HTTP error of the node.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

var kindStatus = map[nineten.Kind]int{
	nineten.KindInvalid:         http.StatusUnprocessableEntity,
	nineten.KindNotFound:        http.StatusNotFound,
	nineten.KindConflict:        http.StatusConflict,
	nineten.KindUnauthenticated: http.StatusUnauthorized,
	nineten.KindPermission:      http.StatusForbidden,
	nineten.KindTooLarge:        http.StatusRequestEntityTooLarge,
	nineten.KindUnsupported:     http.StatusUnsupportedMediaType,
	nineten.KindUnavailable:     http.StatusServiceUnavailable,
}

// writeError answers err as a problem document. Internal errors are logged
// here, once, and shown to the client without their internals.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than the %d MiB this endpoint accepts", tooBig.Limit>>20))
		return
	}
	kind := nineten.ErrorKind(err)
	status, ok := kindStatus[kind]
	msg := nineten.ErrorMessage(err)
	if !ok {
		status = http.StatusInternalServerError
		msg = "something went wrong on the node; the admin can find the details in its log"
		s.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if msg == "" {
		msg = kind.String()
	}
	writeProblem(w, r, status, msg)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("writing a response failed", "err", err)
	}
}

// maxJSONBody bounds JSON request bodies; uploads have their own limit.
const maxJSONBody = 1 << 20

// readJSON decodes a JSON request body into v, rejecting unknown fields so
// that typos are reported instead of silently ignored.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return nineten.E("server.readJSON", nineten.KindInvalid, "the request body is not the JSON this endpoint expects: "+err.Error())
	}
	return nil
}
