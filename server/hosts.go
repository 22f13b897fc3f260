package server

import (
	"net/http"
	"time"
)

type unavailableHostJSON struct {
	Host             string    `json:"host"`
	FailingSince     time.Time `json:"failing_since"`
	Failures         int       `json:"failures"`
	UnavailableSince time.Time `json:"unavailable_since"`
}

type unavailableHostList struct {
	Items []unavailableHostJSON `json:"items"`
}

// unavailableHosts lists the servers the node gave up delivering to.
func (s *Server) unavailableHosts(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	hosts, err := s.Store.UnavailableHosts(r.Context())
	if err != nil {
		return err
	}
	out := unavailableHostList{Items: []unavailableHostJSON{}}
	for _, h := range hosts {
		out.Items = append(out.Items, unavailableHostJSON{Host: h.Host, FailingSince: h.FailingSince, Failures: h.Failures, UnavailableSince: h.UnavailableSince})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
