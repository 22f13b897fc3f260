package storetest

import (
	"slices"
	"strings"

	"nineten.dev"
)

// catalog is a small catalog to search.
type catalog struct {
	oneMoreTime, thunderstruck, joga, midnightCity *nineten.Track
	daftPunk                                       *nineten.Artist
	discovery                                      *nineten.Album
}

func (e *env) catalog() *catalog {
	e.Helper()
	owner := e.user("owner")
	var c catalog
	c.daftPunk = e.artist(owner.ID, "Daft Punk")
	c.discovery = e.album(c.daftPunk.ID, "Discovery", 2001)
	c.oneMoreTime = e.track(nineten.Track{ArtistID: c.daftPunk.ID, AlbumID: c.discovery.ID, Title: "One More Time", Genre: "French House"})
	acdc := e.artist(owner.ID, "AC/DC")
	razors := e.album(acdc.ID, "The Razors Edge", 1990)
	c.thunderstruck = e.track(nineten.Track{ArtistID: acdc.ID, AlbumID: razors.ID, Title: "Thunderstruck", Genre: "Hard Rock"})
	bjork := e.artist(owner.ID, "Björk")
	homogenic := e.album(bjork.ID, "Homogenic", 1997)
	c.joga = e.track(nineten.Track{ArtistID: bjork.ID, AlbumID: homogenic.ID, Title: "Jóga", Genre: "Art Pop"})
	m83 := e.artist(owner.ID, "M83")
	c.midnightCity = e.track(nineten.Track{ArtistID: m83.ID, Title: "Midnight City", Genre: "Synthpop"})
	return &c
}

// search returns the IDs of the visible tracks matching query.
func (e *env) search(query string) []nineten.ID {
	e.Helper()
	got, total, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{Query: query}, nineten.Page{})
	if err != nil {
		e.Fatalf("searching %q: %v", query, err)
	}
	if total != len(got) {
		e.Errorf("searching %q: total %d for %d results", query, total, len(got))
	}
	return ids(got)
}

// wantSearch fails the test unless query finds exactly want, in any order.
func (e *env) wantSearch(query string, want ...*nineten.Track) {
	e.Helper()
	got := e.search(query)
	var wantIDs []nineten.ID
	for _, t := range want {
		wantIDs = append(wantIDs, t.ID)
	}
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		e.Errorf("searching %q found %v, want %v", query, got, wantIDs)
	}
}

var searchTests = []test{
	{"Search/FindsByPrefixOfEveryField", func(e *env) {
		c := e.catalog()
		e.wantSearch("one more time", c.oneMoreTime) // title
		e.wantSearch("mor", c.oneMoreTime)           // a prefix
		e.wantSearch("thunder", c.thunderstruck)
		e.wantSearch("daft", c.oneMoreTime)    // artist
		e.wantSearch("disco", c.oneMoreTime)   // album
		e.wantSearch("homogenic", c.joga)      // album
		e.wantSearch("french", c.oneMoreTime)  // genre
		e.wantSearch("SYNTH", c.midnightCity)  // any case
		e.wantSearch("AC/DC", c.thunderstruck) // punctuation inside a word
		e.wantSearch("björk", c.joga)          // beyond ASCII
		e.wantSearch("BJÖRK", c.joga)          // beyond ASCII, any case
		e.wantSearch("bjork", c.joga)          // without its diacritics
		e.wantSearch("JOGA björk", c.joga)     // title and artist, without and with
		e.wantSearch("midnight synth", c.midnightCity)
		e.wantSearch("midnight punk") // every term must match
		e.wantSearch("zzz")
	}},

	{"Search/OnlyVisibleUnlessAll", func(e *env) {
		c := e.catalog()
		c.oneMoreTime.Hidden = true
		e.ok(e.s.UpdateTrack(e.ctx, c.oneMoreTime))
		e.wantSearch("daft")
		got, _, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{Query: "daft", All: true}, nineten.Page{})
		e.ok(err)
		if want := []nineten.ID{c.oneMoreTime.ID}; !slices.Equal(ids(got), want) {
			e.Errorf("searching all tracks found %v, want %v", ids(got), want)
		}
	}},

	{"Search/CombinesWithFilters", func(e *env) {
		c := e.catalog()
		got, total, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{Query: "time", ArtistID: c.daftPunk.ID}, nineten.Page{})
		e.ok(err)
		if want := []nineten.ID{c.oneMoreTime.ID}; !slices.Equal(ids(got), want) || total != 1 {
			e.Errorf("search within an artist = %v, total %d; want %v", ids(got), total, want)
		}
		got, _, err = e.s.ListTracks(e.ctx, nineten.TrackFilter{Query: "thunder", ArtistID: c.daftPunk.ID}, nineten.Page{})
		e.ok(err)
		if len(got) != 0 {
			e.Errorf("search within another artist = %v, want nothing", ids(got))
		}
	}},

	{"Search/BestMatchFirst", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "New Order")
		// Created first, so that newest-first order would put it last.
		best := e.track(nineten.Track{ArtistID: ar.ID, Title: "Blue Blue Blue", Genre: "Blues"})
		weak := e.track(nineten.Track{ArtistID: ar.ID, Title: "Monday Blue and a Very Long Title About Other Things", Genre: "Synth"})
		if got, want := e.search("blue"), []nineten.ID{best.ID, weak.ID}; !slices.Equal(got, want) {
			e.Errorf("searching blue = %v, want the best match first: %v", got, want)
		}
	}},

	{"Search/FollowsChanges", func(e *env) {
		c := e.catalog()
		c.oneMoreTime.Title = "Aerodynamic"
		e.ok(e.s.UpdateTrack(e.ctx, c.oneMoreTime))
		e.wantSearch("one more")
		e.wantSearch("aerodyn", c.oneMoreTime)

		c.daftPunk.Name = "Thomas and Guy-Manuel"
		e.ok(e.s.UpdateArtist(e.ctx, c.daftPunk))
		e.wantSearch("daft")
		e.wantSearch("guy-manuel", c.oneMoreTime)

		c.discovery.Title = "Homework"
		e.ok(e.s.UpdateAlbum(e.ctx, c.discovery))
		e.wantSearch("discovery")
		e.wantSearch("homework", c.oneMoreTime)

		e.ok(e.s.DeleteAlbum(e.ctx, c.discovery.ID))
		e.wantSearch("homework")
		e.wantSearch("aerodyn", c.oneMoreTime)

		e.ok(e.s.DeleteTrack(e.ctx, c.thunderstruck.ID))
		e.wantSearch("thunder")
	}},

	// Whatever someone types into a search box, searching must not fail.
	{"Search/HostileInput", func(e *env) {
		c := e.catalog()
		for _, q := range []string{
			`AC/DC`, `"`, `""`, `"unterminated`, `-`, `--`, `-rock`, `rock -hard`,
			`NEAR(`, `NEAR(one time)`, `NEAR(one time, 2)`, `a*`, `*`, `**`, `*one`,
			`^`, `^one`, `(`, `)`, `()`, `)(`, `{`, `{title}: one`, `:`, `title:one`, `one:`,
			`+`, `one + more`, `AND`, `OR`, `NOT`, `one AND`, `OR one`, `NOT one`, `one NOT`,
			`'`, `\`, `%`, `_`, `;`, `' OR 1=1 --`, `"; DROP TABLE tracks; --`,
			`日本語`, `🎸`, `Ünïcödé`, "\x00", "one\x00more", "\xff\xfe", "one\xffmore", "thunder\xc3", "\u200b", "e\u0301",
			"   ", "\t\n", strings.Repeat("one ", 300), strings.Repeat("(", 1000),
		} {
			if _, _, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{Query: q}, nineten.Page{}); err != nil {
				e.Errorf("searching %q: %v", q, err)
			}
		}
		e.wantSearch(`"one`, c.oneMoreTime)
		e.wantSearch(`one*`, c.oneMoreTime)
		e.wantSearch(`(one)`, c.oneMoreTime)
		e.wantSearch("one\xffmore", c.oneMoreTime) // bytes that are not UTF-8 separate words
		e.wantSearch("jo\u0301ga", c.joga)         // a combining accent, as typed on some keyboards
	}},
}
