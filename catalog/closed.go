package catalog

import (
	"context"
	"fmt"

	nineten "nineten.dev"
)

// AccountClosed drops the media of a closed account's artists: every file
// of their tracks (whatever their status) and their albums' covers. The
// tracks themselves stay hidden until the month settles (see
// nineten.UserStore.CloseAccount); nobody can play them any more.
func (s *Service) AccountClosed(ctx context.Context, c *nineten.ClosedAccount) {
	for _, a := range c.Artists {
		for p := (nineten.Page{Limit: 200}); ; p.Offset += p.Limit {
			tracks, _, err := s.Store.ListTracks(ctx, nineten.TrackFilter{ArtistID: a.ID, All: true}, p)
			if err != nil {
				s.log().Warn("listing a closed artist's tracks failed; the sweep removes their media once they are deleted", "artist", a.ID, "err", err)
				break
			}
			for _, t := range tracks {
				if err := s.Blobs.DeletePrefix(ctx, trackPrefix(t.ID)); err != nil {
					s.log().Warn("deleting a closed artist's track media failed", "track", t.ID, "err", err)
				}
				s.removeScratch(t.ID)
			}
			if len(tracks) < p.Limit {
				break
			}
		}
	}
	for _, al := range c.Albums {
		if err := s.Blobs.DeletePrefix(ctx, fmt.Sprintf("albums/%d", al.ID)); err != nil {
			s.log().Warn("deleting a closed artist's album cover failed", "album", al.ID, "err", err)
		}
	}
}
