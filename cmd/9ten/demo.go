package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/catalog"
	"nineten.dev/demo"
	"nineten.dev/picture"
	"nineten.dev/report"
)

// Demo logins. They are printed for the newcomer; a demo node is not
// meant to face the internet.
const (
	demoAdminPassword = "demo-admin-9ten"
	demoPassword      = "demo-password"
)

var demoListeners = []string{"alice", "bob", "carol", "dave"}

func demoCmd() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a node pre-filled with demo artists, music, listeners and listening",
		Long: "Run a node like `serve`, and on its first start fill it with generated demo music by\n" +
			"three fictional artists, demo listeners and a few days of listening.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNode(cmd, &o, func(n *node, addr string) {
				go func() {
					if err := n.seedDemo(cmd.Context()); err != nil {
						n.log.Error("filling the demo node failed", "err", err)
						return
					}
					printDemoLogins(addr, o.AdminUser, o.AdminPassword)
				}()
			})
		},
	}
	nodeFlags(cmd, &o)
	setDefault(cmd, "data", "./demo-data")
	setDefault(cmd, "admin-password", demoAdminPassword)
	setDefault(cmd, "simulated-payments", "true")
	// Two workers transcode the demo catalogue in about half the time.
	setDefault(cmd, "workers", "2")
	return cmd
}

func printDemoLogins(addr, admin, adminPassword string) {
	artists := demo.Artists()
	names := make([]string, len(artists))
	for i, a := range artists {
		names[i] = demoUsername(a.Name)
	}
	fmt.Printf("\n9ten demo node is ready: http://%s/\n\n", addr)
	fmt.Printf("  admin      %-28s password %s\n", admin, adminPassword)
	fmt.Printf("  artists    %-28s password %s\n", strings.Join(names, ", "), demoPassword)
	fmt.Printf("  listeners  %-28s password %s\n", strings.Join(demoListeners, ", "), demoPassword)
	fmt.Printf("  (farm1…farm6 played one track from one browser yesterday: review them under Admin → Fake streams)\n\n")
	fmt.Println("Press Ctrl-C to stop.")
}

func demoUsername(artist string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, artist), "-")
}

// seedDemo fills an empty node with the demo catalogue and waits until
// every track is playable. A node that has artists already is left alone,
// so restarting the demo keeps what people did in it.
func (n *node) seedDemo(ctx context.Context) error {
	if _, total, err := n.db.ListArtists(ctx, "", nineten.Page{Limit: 1}); err != nil || total > 0 {
		return err
	}
	start := time.Now()
	src := filepath.Join(n.opts.Data, "scratch", "demo-src")
	defer os.RemoveAll(src)
	fmt.Println("Generating demo music…")
	files, err := demo.Generate(ctx, src, n.ffmpeg, func(done, total int) {
		fmt.Printf("\r  synthesized %d/%d tracks", done, total)
	})
	fmt.Println()
	if err != nil {
		return err
	}
	owners := map[string]*nineten.User{}
	for _, a := range demo.Artists() {
		u, err := n.accounts.CreateUser(ctx, demoUsername(a.Name), demoPassword, a.Name, nineten.RoleArtist)
		if err != nil {
			return err
		}
		artist, err := n.catalog.CreateArtist(ctx, u, a.Name, a.Bio)
		if err != nil {
			return err
		}
		for _, kind := range []picture.Kind{picture.Avatar, picture.Header} {
			var pic bytes.Buffer
			if err := demo.WritePicture(&pic, a.Name+"/"+string(kind)); err != nil {
				return err
			}
			if _, err := n.pictures.SetArtist(ctx, u, artist.ID, kind, &pic); err != nil {
				return err
			}
		}
		owners[a.Name] = u
	}
	var ids []nineten.ID
	for _, f := range files {
		t, err := n.uploadFile(ctx, owners[f.Tags.Artist], 0, f.Path)
		if err != nil {
			return fmt.Errorf("uploading %s: %w", filepath.Base(f.Path), err)
		}
		ids = append(ids, t.ID)
	}
	if err := n.waitReady(ctx, ids); err != nil {
		return err
	}
	if err := n.seedListening(ctx, ids); err != nil {
		return err
	}
	// The report calendar ran at start, before there was any listening:
	// this month's days are reported again now (last month's were, when
	// it was settled from its report).
	today := time.Now().UTC().Format(time.DateOnly)
	days, _ := report.Days(nineten.PeriodOf(time.Now()))
	for _, day := range days {
		if day >= today {
			break
		}
		if _, err := n.reports.Daily(ctx, day, nil); err != nil {
			return err
		}
	}
	fmt.Printf("Demo catalogue ready in %.1f s.\n", time.Since(start).Seconds())
	return nil
}

func (n *node) uploadFile(ctx context.Context, u *nineten.User, artistID nineten.ID, path string) (*nineten.Track, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return n.catalog.Upload(ctx, u, catalog.Upload{ArtistID: artistID, Filename: filepath.Base(path), Body: f})
}

// waitReady waits until the tracks are processed, showing progress.
func (n *node) waitReady(ctx context.Context, ids []nineten.ID) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := 0
		for _, id := range ids {
			t, err := n.db.TrackByID(ctx, id)
			if err != nil {
				return err
			}
			switch t.Status {
			case nineten.TrackReady:
				ready++
			case nineten.TrackFailed:
				return fmt.Errorf("demo track %q failed: %s", t.Title, t.Error)
			}
		}
		fmt.Printf("\r  transcoded %d/%d tracks", ready, len(ids))
		if ready == len(ids) {
			fmt.Println()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// seedListening gives the demo listeners listening history since the
// start of last month, each with favourite artists, so play counts and
// recent plays show; then money: simulated deposits, subscriptions for
// last month and this one, and last month settled, so that "where my money
// went" has a month to show. The last listener never subscribes.
func (n *node) seedListening(ctx context.Context, ids []nineten.ID) error {
	rnd := rand.New(rand.NewPCG(9, 10))
	now := time.Now().UTC()
	this := nineten.PeriodOf(now)
	last := this.Prev()
	lastStart, _ := last.Start()
	days := int(now.Sub(lastStart) / (24 * time.Hour))
	var users []*nineten.User
	for li, name := range demoListeners {
		u, err := n.accounts.CreateUser(ctx, name, demoPassword, strings.ToUpper(name[:1])+name[1:], nineten.RoleListener)
		if err != nil {
			return err
		}
		users = append(users, u)
		for day := days; day >= 0; day-- {
			for range 4 + rnd.IntN(8) {
				// Each listener favours a different part of the catalogue.
				id := ids[(li*3+rnd.IntN(len(ids)/2+1))%len(ids)]
				t, err := n.db.TrackByID(ctx, id)
				if err != nil {
					return err
				}
				at := now.Add(-time.Duration(day)*24*time.Hour - time.Duration(rnd.IntN(20*3600))*time.Second)
				if at.After(now) {
					at = now.Add(-time.Minute)
				}
				var sid [12]byte
				_, _ = crand.Read(sid[:])
				sess := &nineten.ListenSession{ID: "demo-" + base64.RawURLEncoding.EncodeToString(sid[:]), TrackID: id, UserID: u.ID, StartedAt: at, HeardMS: t.DurationMS}
				if err := n.db.CreateListenSession(ctx, sess); err != nil {
					return err
				}
				l := &nineten.Listen{SessionID: sess.ID, TrackID: id, UserID: u.ID, StartedAt: at, HeardMS: t.DurationMS, Status: nineten.ListenVerified, VerifiedAt: at.Add(time.Duration(t.DurationMS) * time.Millisecond)}
				if err := n.db.SaveListen(ctx, l); err != nil {
					return err
				}
			}
		}
	}
	if err := n.seedMoney(ctx, users[:len(users)-1], last, this); err != nil {
		return err
	}
	return n.seedFarm(ctx, ids[len(ids)-1])
}

// seedFarm plays one track yesterday from six accounts in one browser, as
// a farm does, and runs the fake-stream detection of the day: the demo's
// admin finds a flag awaiting review under Admin → Fake streams.
func (n *node) seedFarm(ctx context.Context, track nineten.ID) error {
	t, err := n.db.TrackByID(ctx, track)
	if err != nil {
		return err
	}
	yesterday := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	for i := range 6 {
		u, err := n.accounts.CreateUser(ctx, fmt.Sprintf("farm%d", i+1), demoPassword, "", nineten.RoleListener)
		if err != nil {
			return err
		}
		for j := range 3 {
			at := yesterday.Add(time.Duration(9+i)*time.Hour + time.Duration(j)*(time.Duration(t.DurationMS)*time.Millisecond+time.Second))
			sess := &nineten.ListenSession{ID: fmt.Sprintf("demo-farm-%d-%d", i, j), TrackID: track, UserID: u.ID, StartedAt: at,
				HeardMS: t.DurationMS, Network: fmt.Sprintf("demo-farm-network-%d", i), Device: "demo-farm-browser"}
			if err := n.db.CreateListenSession(ctx, sess); err != nil {
				return err
			}
			l := &nineten.Listen{SessionID: sess.ID, TrackID: track, UserID: u.ID, StartedAt: at, HeardMS: t.DurationMS,
				Status: nineten.ListenVerified, VerifiedAt: at.Add(time.Duration(t.DurationMS) * time.Millisecond)}
			if err := n.db.SaveListen(ctx, l); err != nil {
				return err
			}
		}
	}
	_, err = n.anomaly.DetectDay(ctx, yesterday)
	return err
}

// seedMoney pays for the listeners' months with simulated money and
// settles last month.
func (n *node) seedMoney(ctx context.Context, users []*nineten.User, last, this nineten.Period) error {
	for _, u := range users {
		if _, err := n.subs.SimulatedDeposit(ctx, u, 50_000_000); err != nil {
			return err
		}
		if _, err := n.ledger.Subscribe(ctx, strconv.FormatInt(int64(u.ID), 10), last); err != nil {
			return err
		}
	}
	if _, err := n.payouts.Open(ctx, last); err != nil {
		return err
	}
	if _, err := n.payouts.Settle(ctx, last, false, nil); err != nil {
		return err
	}
	_, err := n.payouts.Open(ctx, this)
	return err
}
