package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/catalog"
	"nineten.dev/internal/ratelimit"
	"nineten.dev/listen"
	"nineten.dev/subscription"
)

// route is one API endpoint: how it is served and how it is documented.
// The OpenAPI document is generated from these, so the two cannot differ.
type route struct {
	Method, Path string
	Summary      string
	Tag          string
	Auth         string // "", "user" or "admin"
	Query        []string
	Body         any // request body shape, nil for none
	Multipart    bool
	Status       int // success status
	Resp         any // response body shape, nil for none
	handle       func(w http.ResponseWriter, r *http.Request) error
}

func (s *Server) registerAPI(mux *http.ServeMux) {
	page := []string{"limit", "offset"}
	// Ten tries at once, then one every six seconds, per client address.
	auth := &ratelimit.Limiter{Burst: 10, Interval: 6 * time.Second}
	routes := []route{
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This API's OpenAPI 3 description", Tag: "meta", Status: 200, handle: s.openAPI},

		{Method: "POST", Path: "/api/v1/auth/signup", Summary: "Create a listener account and log in", Tag: "auth", Body: credentials{}, Status: 201, Resp: userEnvelope{}, handle: s.limited(auth, s.signup)},
		{Method: "POST", Path: "/api/v1/auth/login", Summary: "Log in (sets the session cookie)", Tag: "auth", Body: credentials{}, Status: 200, Resp: userEnvelope{}, handle: s.limited(auth, s.login)},
		{Method: "POST", Path: "/api/v1/auth/logout", Summary: "Log out", Tag: "auth", Status: 204, handle: s.logout},
		{Method: "GET", Path: "/api/v1/me", Summary: "The logged-in user and their artist profiles", Tag: "auth", Auth: "user", Status: 200, Resp: meJSON{}, handle: s.me},
		{Method: "PATCH", Path: "/api/v1/me", Summary: "Edit your profile: display name and bio (your followers elsewhere get the change)", Tag: "auth", Auth: "user", Body: profileInput{}, Status: 200, Resp: userJSON{}, handle: s.editProfile},
		{Method: "DELETE", Path: "/api/v1/me", Summary: "Close your account, confirmed with your password (what happens to your money and data: see the README)", Tag: "auth", Auth: "user", Body: closeInput{}, Status: 204, handle: s.closeOwn},
		{Method: "GET", Path: "/api/v1/me/tokens", Summary: "List your API tokens", Tag: "auth", Auth: "user", Status: 200, Resp: tokenList{}, handle: s.listTokens},
		{Method: "POST", Path: "/api/v1/me/tokens", Summary: "Create an API token (shown once)", Tag: "auth", Auth: "user", Body: tokenInput{}, Status: 201, Resp: tokenJSON{}, handle: s.createToken},
		{Method: "DELETE", Path: "/api/v1/me/tokens/{id}", Summary: "Revoke an API token", Tag: "auth", Auth: "user", Status: 204, handle: s.deleteToken},
		{Method: "GET", Path: "/api/v1/me/tracks", Summary: "Your tracks in every status", Tag: "catalog", Auth: "user", Query: page, Status: 200, Resp: trackPage{}, handle: s.myTracks},
		{Method: "GET", Path: "/api/v1/me/listens", Summary: "Your recently played tracks", Tag: "listens", Auth: "user", Query: []string{"limit"}, Status: 200, Resp: listenList{}, handle: s.myListens},

		{Method: "GET", Path: "/api/v1/artists", Summary: "List artists", Tag: "catalog", Query: append([]string{"q"}, page...), Status: 200, Resp: artistPage{}, handle: s.listArtists},
		{Method: "POST", Path: "/api/v1/artists", Summary: "Create an artist profile (you become an artist)", Tag: "catalog", Auth: "user", Body: artistInput{}, Status: 201, Resp: artistJSON{}, handle: s.createArtist},
		{Method: "GET", Path: "/api/v1/artists/{id}", Summary: "An artist", Tag: "catalog", Status: 200, Resp: artistJSON{}, handle: s.getArtist},
		{Method: "PATCH", Path: "/api/v1/artists/{id}", Summary: "Edit an artist profile", Tag: "catalog", Auth: "user", Body: artistInput{}, Status: 200, Resp: artistJSON{}, handle: s.patchArtist},

		{Method: "GET", Path: "/api/v1/albums", Summary: "List albums", Tag: "catalog", Query: append([]string{"artist_id"}, page...), Status: 200, Resp: albumPage{}, handle: s.listAlbums},
		{Method: "GET", Path: "/api/v1/albums/{id}", Summary: "An album with its tracks", Tag: "catalog", Status: 200, Resp: albumJSON{}, handle: s.getAlbum},
		{Method: "PATCH", Path: "/api/v1/albums/{id}", Summary: "Edit an album", Tag: "catalog", Auth: "user", Body: albumInput{}, Status: 200, Resp: albumJSON{}, handle: s.patchAlbum},

		{Method: "PUT", Path: "/api/v1/albums/{id}/cover", Summary: "Replace an album's cover (multipart field \"file\": JPEG, PNG or WebP)", Tag: "catalog", Auth: "user", Body: uploadForm{}, Multipart: true, Status: 200, Resp: albumJSON{}, handle: s.putAlbumCover},

		{Method: "GET", Path: "/api/v1/tracks", Summary: "List or search tracks", Tag: "catalog", Query: append([]string{"q", "artist_id", "album_id", "all"}, page...), Status: 200, Resp: trackPage{}, handle: s.listTracks},
		{Method: "GET", Path: "/api/v1/tracks/{id}", Summary: "A track", Tag: "catalog", Status: 200, Resp: trackJSON{}, handle: s.getTrack},
		{Method: "PATCH", Path: "/api/v1/tracks/{id}", Summary: "Edit a track's tags (admins: hide)", Tag: "catalog", Auth: "user", Body: trackInput{}, Status: 200, Resp: trackJSON{}, handle: s.patchTrack},
		{Method: "DELETE", Path: "/api/v1/tracks/{id}", Summary: "Delete a track and its media", Tag: "catalog", Auth: "user", Status: 204, handle: s.deleteTrack},
		{Method: "POST", Path: "/api/v1/uploads", Summary: "Upload one audio file (multipart field \"file\")", Tag: "catalog", Auth: "user", Body: uploadForm{}, Multipart: true, Status: 202, Resp: trackEnvelope{}, handle: s.upload},

		{Method: "POST", Path: "/api/v1/playlists", Summary: "Create a playlist (private unless public is true)", Tag: "playlists", Auth: "user", Body: playlistInput{}, Status: 201, Resp: playlistJSON{}, handle: s.createPlaylist},
		{Method: "GET", Path: "/api/v1/me/playlists", Summary: "Your playlists, public and private", Tag: "playlists", Auth: "user", Query: page, Status: 200, Resp: playlistPage{}, handle: s.myPlaylists},
		{Method: "GET", Path: "/api/v1/users/{id}/playlists", Summary: "A user's public playlists", Tag: "playlists", Query: page, Status: 200, Resp: playlistPage{}, handle: s.userPlaylists},
		{Method: "GET", Path: "/api/v1/playlists/{id}", Summary: "A playlist with its tracks (a private one: for its owner only)", Tag: "playlists", Status: 200, Resp: playlistJSON{}, handle: s.getPlaylist},
		{Method: "PATCH", Path: "/api/v1/playlists/{id}", Summary: "Rename, describe, or make public or private, a playlist of yours", Tag: "playlists", Auth: "user", Body: playlistInput{}, Status: 200, Resp: playlistJSON{}, handle: s.patchPlaylist},
		{Method: "DELETE", Path: "/api/v1/playlists/{id}", Summary: "Delete a playlist of yours", Tag: "playlists", Auth: "user", Status: 204, handle: s.deletePlaylist},
		{Method: "POST", Path: "/api/v1/playlists/{id}/items", Summary: "Add a track at the end: track_id (this node) or track_iri (another server)", Tag: "playlists", Auth: "user", Body: playlistItemInput{}, Status: 201, Resp: playlistItemJSON{}, handle: s.addPlaylistItem},
		{Method: "PATCH", Path: "/api/v1/playlists/{id}/items/{item}", Summary: "Move a track to a position (0 is first)", Tag: "playlists", Auth: "user", Body: playlistMoveInput{}, Status: 200, Resp: playlistJSON{}, handle: s.movePlaylistItem},
		{Method: "DELETE", Path: "/api/v1/playlists/{id}/items/{item}", Summary: "Take a track out of a playlist", Tag: "playlists", Auth: "user", Status: 204, handle: s.deletePlaylistItem},
		{Method: "GET", Path: "/api/v1/remote/playlists", Summary: "Playlists of the actors you follow on other servers", Tag: "federation", Auth: "user", Query: page, Status: 200, Resp: playlistPage{}, handle: s.remotePlaylists},
		{Method: "GET", Path: "/api/v1/remote/playlists/{id}", Summary: "One of those playlists, with its tracks", Tag: "federation", Auth: "user", Status: 200, Resp: playlistJSON{}, handle: s.remotePlaylist},

		{Method: "POST", Path: "/api/v1/listens", Summary: "Start a playback session of a track", Tag: "listens", Body: listenStart{}, Status: 201, Resp: listen.Started{}, handle: s.startListen},
		{Method: "POST", Path: "/api/v1/listens/{session}/progress", Summary: "Report playback progress (signed with the session key)", Tag: "listens", Body: listen.Report{}, Status: 200, Resp: listen.Outcome{}, handle: s.listenProgress},

		{Method: "GET", Path: "/api/v1/me/money", Summary: "Your balance, subscription and payment history (amounts in micro-USD)", Tag: "money", Auth: "user", Status: 200, Resp: moneyOverviewJSON{}, handle: s.moneyOverview},
		{Method: "PUT", Path: "/api/v1/me/subscription", Summary: "Subscribe: $10 from your balance for this month, renewed monthly", Tag: "money", Auth: "user", Status: 200, Resp: subscriptionJSON{}, handle: s.subscribe},
		{Method: "DELETE", Path: "/api/v1/me/subscription", Summary: "Cancel renewal (paid months still count)", Tag: "money", Auth: "user", Status: 200, Resp: subscriptionJSON{}, handle: s.unsubscribe},
		{Method: "POST", Path: "/api/v1/me/deposits/simulated", Summary: "Add pretend money (demo nodes only)", Tag: "money", Auth: "user", Body: depositInput{}, Status: 201, Resp: moneyTxJSON{}, handle: s.simulatedDeposit},
		{Method: "GET", Path: "/api/v1/me/money/{period}", Summary: "Where your money went in a month (YYYY-MM)", Tag: "money", Auth: "user", Status: 200, Resp: subscription.Month{}, handle: s.moneyWent},
		{Method: "GET", Path: "/api/v1/me/earnings", Summary: "What your artist profiles earned, per month", Tag: "money", Auth: "user", Status: 200, Resp: earningsJSON{}, handle: s.earnings},
		{Method: "GET", Path: "/api/v1/me/payment-methods", Summary: "How you can pay this node: USDP (deposit addresses) and payment gateways (checkout links)", Tag: "money", Auth: "user", Status: 200, Resp: paymentMethodsJSON{}, handle: s.paymentMethods},
		{Method: "GET", Path: "/api/v1/me/wallets", Summary: "Your registered Ethereum wallets", Tag: "money", Auth: "user", Status: 200, Resp: walletList{}, handle: s.myWallets},
		{Method: "POST", Path: "/api/v1/me/wallets/challenges", Summary: "A message to sign with a wallet to register it (EIP-4361)", Tag: "money", Auth: "user", Body: challengeInput{}, Status: 201, Resp: challengeJSON{}, handle: s.walletChallenge},
		{Method: "POST", Path: "/api/v1/me/wallets", Summary: "Register a wallet with its signature of a challenge", Tag: "money", Auth: "user", Body: walletInput{}, Status: 201, Resp: walletJSON{}, handle: s.registerWallet},
		{Method: "DELETE", Path: "/api/v1/me/wallets/{address}", Summary: "Unregister a wallet", Tag: "money", Auth: "user", Status: 204, handle: s.deleteWallet},
		{Method: "GET", Path: "/api/v1/me/payouts", Summary: "Payouts of your artists' earnings", Tag: "money", Auth: "user", Status: 200, Resp: payoutList{}, handle: s.myPayouts},
		{Method: "POST", Path: "/api/v1/me/payouts", Summary: "Pay out an artist's earned balance (USDP to a registered wallet, or through a gateway)", Tag: "money", Auth: "user", Body: payoutInput{}, Status: 201, Resp: payoutJSON{}, handle: s.startPayout},
		{Method: "GET", Path: "/api/v1/admin/payments", Summary: "Unclaimed transfers, payouts under way or failed, refused gateway events", Tag: "admin", Auth: "admin", Status: 200, Resp: adminPaymentsJSON{}, handle: s.adminPayments},
		{Method: "GET", Path: "/api/v1/admin/money", Summary: "The operator's share and the current month", Tag: "admin", Auth: "admin", Status: 200, Resp: adminMoneyJSON{}, handle: s.adminMoney},
		{Method: "POST", Path: "/api/v1/admin/settlements", Summary: "Settle a month, or preview it with dry_run", Tag: "admin", Auth: "admin", Body: settleInput{}, Status: 200, Resp: settlementJSON{}, handle: s.adminSettle},

		{Method: "GET", Path: "/api/v1/follows", Summary: "Whom you follow on other servers", Tag: "federation", Auth: "user", Status: 200, Resp: followingList{}, handle: s.listFollows},
		{Method: "POST", Path: "/api/v1/follows", Summary: "Follow @name@host on another server", Tag: "federation", Auth: "user", Body: followInput{}, Status: 201, Resp: followingJSON{}, handle: s.follow},
		{Method: "DELETE", Path: "/api/v1/follows/{id}", Summary: "Stop following", Tag: "federation", Auth: "user", Status: 204, handle: s.unfollow},
		{Method: "GET", Path: "/api/v1/remote/catalogue", Summary: "The tracks @name@host published on its server", Tag: "federation", Auth: "user", Query: []string{"handle", "limit"}, Status: 200, Resp: catalogueJSON{}, handle: s.remoteCatalogue},
		{Method: "GET", Path: "/api/v1/feed", Summary: "What the actors you follow published", Tag: "federation", Auth: "user", Query: []string{"limit"}, Status: 200, Resp: feedList{}, handle: s.feed},

		{Method: "GET", Path: "/api/v1/admin/users", Summary: "List accounts", Tag: "admin", Auth: "admin", Query: page, Status: 200, Resp: userPage{}, handle: s.adminUsers},
		{Method: "PATCH", Path: "/api/v1/admin/users/{id}", Summary: "Disable, enable or change the role of an account", Tag: "admin", Auth: "admin", Body: userInput{}, Status: 200, Resp: userJSON{}, handle: s.adminPatchUser},
		{Method: "DELETE", Path: "/api/v1/admin/users/{id}", Summary: "Close an account (its money stays on the ledger for a payout)", Tag: "admin", Auth: "admin", Status: 204, handle: s.adminCloseUser},
		{Method: "POST", Path: "/api/v1/admin/users/{id}/payouts", Summary: "Record that you paid a closed account's balance and earnings out (ref: your payment's reference)", Tag: "admin", Auth: "admin", Body: closedPayoutInput{}, Status: 201, Resp: moneyTxList{}, handle: s.adminPayOutClosed},
		{Method: "GET", Path: "/api/v1/admin/domain-blocks", Summary: "Servers this node refuses to federate with", Tag: "admin", Auth: "admin", Status: 200, Resp: domainBlockList{}, handle: s.listDomainBlocks},
		{Method: "POST", Path: "/api/v1/admin/domain-blocks", Summary: "Block a server and purge what came from it", Tag: "admin", Auth: "admin", Body: domainBlockInput{}, Status: 201, Resp: domainBlockJSON{}, handle: s.blockDomain},
		{Method: "DELETE", Path: "/api/v1/admin/domain-blocks/{host}", Summary: "Unblock a server", Tag: "admin", Auth: "admin", Status: 204, handle: s.unblockDomain},
		{Method: "GET", Path: "/api/v1/admin/unavailable-hosts", Summary: "Servers the node gave up delivering to (failing for a week); tried again when they answer", Tag: "admin", Auth: "admin", Status: 200, Resp: unavailableHostList{}, handle: s.unavailableHosts},
		{Method: "GET", Path: "/api/v1/admin/reports", Summary: "A month's listening reports: each day's and the month's, generated, anchored, groups suppressed", Tag: "admin", Auth: "admin", Query: []string{"month"}, Status: 200, Resp: reportsJSON{}, handle: s.adminReports},
		{Method: "POST", Path: "/api/v1/admin/reports/daily", Summary: "Make a day's listening report again (a new version only if its listening changed)", Tag: "admin", Auth: "admin", Body: dailyInput{}, Status: 200, Resp: reportJSON{}, handle: s.adminDailyReport},
		{Method: "POST", Path: "/api/v1/admin/reports/monthly", Summary: "Compile a month's listening report from its dailies and run its checks", Tag: "admin", Auth: "admin", Body: monthlyInput{}, Status: 200, Resp: monthlyCheckJSON{}, handle: s.adminMonthlyReport},
		{Method: "GET", Path: "/api/v1/admin/jobs", Summary: "Queued and running background jobs", Tag: "admin", Auth: "admin", Status: 200, Resp: jobList{}, handle: s.adminJobs},
	}
	routes = append(routes, s.socialRoutes()...)
	routes = append(routes, s.anomalyRoutes()...)
	routes = append(routes, s.statementRoutes()...)
	routes = append(routes, s.reviewRoutes()...)
	routes = append(routes, s.pictureRoutes()...)
	for _, rt := range routes {
		h := rt.handle
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				s.writeError(w, r, err)
			}
		})
	}
	s.routes = routes
}

func pathID(r *http.Request, name string) (nineten.ID, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, nineten.E("server.pathID", nineten.KindNotFound, fmt.Sprintf("%q is not an id", r.PathValue(name)))
	}
	return nineten.ID(id), nil
}

func queryID(r *http.Request, name string) (nineten.ID, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, nineten.E("server.queryID", nineten.KindInvalid, fmt.Sprintf("%s=%q is not an id", name, v))
	}
	return nineten.ID(id), nil
}

// pageOf reads limit and offset, with limit 1–200 (default 50).
func pageOf(r *http.Request) (nineten.Page, error) {
	p := nineten.Page{Limit: 50}
	for name, dst := range map[string]*int{"limit": &p.Limit, "offset": &p.Offset} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p, nineten.E("server.pageOf", nineten.KindInvalid, name+" must be a non-negative integer")
			}
			*dst = n
		}
	}
	if p.Limit == 0 || p.Limit > 200 {
		return p, nineten.E("server.pageOf", nineten.KindInvalid, "limit must be between 1 and 200")
	}
	return p, nil
}

// edit reads what an edit request needs: the logged-in user, the id in
// the path and the JSON body.
func (s *Server) edit(w http.ResponseWriter, r *http.Request, in any) (*nineten.User, nineten.ID, error) {
	u, err := s.requireUser(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	return u, id, readJSON(w, r, in)
}

// Auth.

func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := s.Accounts.SignUp(r.Context(), in.Username, in.Password, in.DisplayName); err != nil {
		return err
	}
	return s.startSession(w, r, in, http.StatusCreated)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	return s.startSession(w, r, in, http.StatusOK)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, in credentials, status int) error {
	u, token, err := s.Accounts.Login(r.Context(), in.Username, in.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, token, s.Accounts.TTL())
	writeJSON(w, status, userEnvelope{toUser(u)})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Accounts.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	artists, err := s.Catalog.ArtistsOf(r.Context(), u)
	if err != nil {
		return err
	}
	out := meJSON{User: toUser(u), Artists: []artistJSON{}}
	for i := range artists {
		out.Artists = append(out.Artists, toArtist(&artists[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	toks, err := s.Store.ListTokens(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := tokenList{Items: []tokenJSON{}}
	for _, t := range toks {
		out.Items = append(out.Items, toToken(&t, ""))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func toToken(t *nineten.APIToken, secret string) tokenJSON {
	j := tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Token: secret}
	if !t.LastUsedAt.IsZero() {
		lu := t.LastUsedAt
		j.LastUsed = &lu
	}
	return j
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in tokenInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	t, secret, err := s.Accounts.CreateToken(r.Context(), u, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toToken(t, secret))
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Store.DeleteToken(r.Context(), u.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Catalog.

func (s *Server) listArtists(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	items, total, err := s.Catalog.Artists(r.Context(), r.URL.Query().Get("q"), p)
	if err != nil {
		return err
	}
	out := artistPage{Items: []artistJSON{}, Total: total, Limit: p.Limit, Offset: p.Offset}
	for i := range items {
		out.Items = append(out.Items, toArtist(&items[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createArtist(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in artistInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return nineten.E("server.createArtist", nineten.KindInvalid, "name is required")
	}
	bio := ""
	if in.Bio != nil {
		bio = *in.Bio
	}
	a, err := s.Catalog.CreateArtist(r.Context(), u, *in.Name, bio)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toArtist(a))
	return nil
}

func (s *Server) getArtist(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Catalog.Artist(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toArtist(a))
	return nil
}

func (s *Server) patchArtist(w http.ResponseWriter, r *http.Request) error {
	var in artistInput
	u, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	a, err := s.Catalog.UpdateArtist(r.Context(), u, id, catalog.ArtistEdit{Name: in.Name, Bio: in.Bio})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toArtist(a))
	return nil
}

func (s *Server) listAlbums(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	artistID, err := queryID(r, "artist_id")
	if err != nil {
		return err
	}
	items, total, err := s.Catalog.Albums(r.Context(), artistID, p)
	if err != nil {
		return err
	}
	out := albumPage{Items: []albumJSON{}, Total: total, Limit: p.Limit, Offset: p.Offset}
	for i := range items {
		out.Items = append(out.Items, toAlbum(&items[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getAlbum(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, tracks, err := s.Catalog.Album(r.Context(), id)
	if err != nil {
		return err
	}
	out := toAlbum(a)
	out.Tracks = toTracks(tracks)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) patchAlbum(w http.ResponseWriter, r *http.Request) error {
	var in albumInput
	u, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	a, err := s.Catalog.UpdateAlbum(r.Context(), u, id, catalog.AlbumEdit{Title: in.Title, Year: in.Year, Genre: in.Genre})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAlbum(a))
	return nil
}

func (s *Server) putAlbumCover(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	part, err := filePart(w, r, 32<<20, nil)
	if err != nil {
		return err
	}
	a, err := s.Catalog.SetAlbumCover(r.Context(), u, id, part)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAlbum(a))
	return nil
}

// filePart returns the "file" part of a multipart/form-data request of at
// most limit bytes. Small fields before it are put in fields (when not nil).
func filePart(w http.ResponseWriter, r *http.Request, limit int64, fields map[string]string) (*multipart.Part, error) {
	const op = "server.filePart"
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return nil, nineten.E(op, nineten.KindUnsupported, "send the file as multipart/form-data in a field named \"file\"")
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the multipart body is malformed", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nineten.E(op, nineten.KindInvalid, "the form has no \"file\" field")
		}
		if err != nil {
			return nil, nineten.E(op, nineten.KindInvalid, "the multipart body is malformed", err)
		}
		if part.FormName() == "file" {
			return part, nil
		}
		if fields != nil {
			v, _ := io.ReadAll(io.LimitReader(part, 1024))
			fields[part.FormName()] = string(v)
		}
	}
}

func (s *Server) listTracks(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	var f nineten.TrackFilter
	if f.ArtistID, err = queryID(r, "artist_id"); err != nil {
		return err
	}
	if f.AlbumID, err = queryID(r, "album_id"); err != nil {
		return err
	}
	f.Query = r.URL.Query().Get("q")
	viewer, err := s.viewer(r)
	if err != nil {
		return err
	}
	if all := r.URL.Query().Get("all"); all == "1" || all == "true" {
		if viewer == nil || viewer.Role != nineten.RoleAdmin {
			return nineten.E("server.listTracks", nineten.KindPermission, "only admins may list hidden and unfinished tracks (all=1)")
		}
		f.All = true
	}
	items, total, err := s.Catalog.Tracks(r.Context(), viewer, f, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, trackPage{Items: toTracks(items), Total: total, Limit: p.Limit, Offset: p.Offset})
	return nil
}

// trackFor renders a track for viewer, with its processing job when the
// viewer manages it.
func (s *Server) trackFor(r *http.Request, viewer *nineten.User, t *nineten.Track) trackJSON {
	j := toTrack(t)
	if t.Status == nineten.TrackProcessing && s.Catalog.MayManage(r.Context(), viewer, t) {
		if jobs, err := s.Catalog.ProcessingJobs(r.Context()); err == nil {
			if job, ok := jobs[t.ID]; ok {
				j.Job = toJob(&job, t.ID)
			}
		}
	}
	return j
}

func toJob(j *nineten.Job, trackID nineten.ID) *jobJSON {
	return &jobJSON{ID: j.ID, Kind: j.Kind, Status: string(j.Status), Progress: j.Progress, Attempts: j.Attempts, LastError: j.LastError, TrackID: trackID}
}

func (s *Server) getTrack(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	viewer, err := s.viewer(r)
	if err != nil {
		return err
	}
	t, err := s.Catalog.Track(r.Context(), viewer, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.trackFor(r, viewer, t))
	return nil
}

func (s *Server) patchTrack(w http.ResponseWriter, r *http.Request) error {
	var in trackInput
	u, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	t, err := s.Catalog.UpdateTrack(r.Context(), u, id, catalog.TrackEdit{
		Title: in.Title, Album: in.Album, TrackNumber: in.TrackNumber, Year: in.Year, Genre: in.Genre, Hidden: in.Hidden,
	})
	if err != nil {
		return err
	}
	s.forgetVisibility(id)
	writeJSON(w, http.StatusOK, s.trackFor(r, u, t))
	return nil
}

func (s *Server) deleteTrack(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Catalog.DeleteTrack(r.Context(), u, id); err != nil {
		return err
	}
	s.forgetVisibility(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) myTracks(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	items, total, err := s.Catalog.OwnTracks(r.Context(), u, p)
	if err != nil {
		return err
	}
	out := trackPage{Items: make([]trackJSON, 0, len(items)), Total: total, Limit: p.Limit, Offset: p.Offset}
	for i := range items {
		out.Items = append(out.Items, s.trackFor(r, u, &items[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// upload streams a multipart upload's "file" part straight to the catalog.
// An "artist_id" field, if any, must come before the file (or be given as
// a query parameter), because the file is consumed as it arrives.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	const op = "server.upload"
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	limit := s.MaxUploadBytes
	if limit <= 0 {
		limit = catalog.DefaultMaxUpload
	}
	if r.ContentLength > limit+1<<20 {
		return nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("files are limited to %d MiB", limit>>20))
	}
	artistID, err := queryID(r, "artist_id")
	if err != nil {
		return err
	}
	fields := map[string]string{}
	part, err := filePart(w, r, limit+1<<20, fields)
	if err != nil {
		return err
	}
	if v, ok := fields["artist_id"]; ok {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || id <= 0 {
			return nineten.E(op, nineten.KindInvalid, "artist_id must be an artist's id")
		}
		artistID = nineten.ID(id)
	}
	t, err := s.Catalog.Upload(r.Context(), u, catalog.Upload{
		ArtistID: artistID, Filename: part.FileName(), ContentType: part.Header.Get("Content-Type"), Body: part,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, trackEnvelope{s.trackFor(r, u, t)})
	return nil
}

// Listens.

func (s *Server) startListen(w http.ResponseWriter, r *http.Request) error {
	var in listenStart
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	viewer, err := s.viewer(r)
	if err != nil {
		return err
	}
	// Every browser gets an id cookie: an anonymous listener is known by
	// it, and the detector tells a device by it.
	browser := s.anonID(w, r)
	anon := ""
	if viewer == nil {
		anon = browser
	}
	from := listen.Client{Addr: clientAddr(r), Browser: browser, UserAgent: r.UserAgent()}
	var started *listen.Started
	if in.TrackIRI != "" {
		started, err = s.Listens.StartRemote(r.Context(), viewer, in.TrackIRI, from)
	} else {
		started, err = s.Listens.Start(r.Context(), viewer, anon, in.TrackID, from)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, started)
	return nil
}

func (s *Server) listenProgress(w http.ResponseWriter, r *http.Request) error {
	var in listen.Report
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	out, err := s.Listens.Progress(r.Context(), r.PathValue("session"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) myListens(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ls, err := s.Listens.Recent(r.Context(), u.ID, limit)
	if err != nil {
		return err
	}
	out := listenList{Items: []listenJSON{}}
	for _, l := range ls {
		switch {
		case l.Track != nil:
			t := toTrack(l.Track)
			out.Items = append(out.Items, listenJSON{Track: &t, StartedAt: l.StartedAt, HeardMS: l.HeardMS})
		case l.Remote != nil:
			out.Items = append(out.Items, listenJSON{Remote: &remoteListenJSON{
				ID: l.Remote.IRI, Title: l.Remote.Title, Artist: l.Remote.ArtistName, ArtistID: l.Remote.ArtistIRI,
				PageURL: l.Remote.PageURL, DurationMS: l.Remote.DurationMS, Payee: l.Remote.Payee,
			}, StartedAt: l.StartedAt, HeardMS: l.HeardMS})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Federation.

// federatorFor returns the logged-in user and the node's federation.
func (s *Server) federatorFor(r *http.Request) (*nineten.User, nineten.Federator, error) {
	u, err := s.requireUser(r)
	if err != nil {
		return nil, nil, err
	}
	if s.Federator == nil {
		return nil, nil, nineten.E("server.federator", nineten.KindUnavailable, "federation is not enabled on this node")
	}
	return u, s.Federator, nil
}

func toFollowing(f *nineten.Following) followingJSON {
	return followingJSON{ID: f.ID, Actor: toRemoteActor(&f.Actor), State: string(f.State), Since: f.Since}
}

func (s *Server) follow(w http.ResponseWriter, r *http.Request) error {
	u, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	var in followInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	f, err := fed.Follow(r.Context(), u, in.Handle)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toFollowing(f))
	return nil
}

func (s *Server) listFollows(w http.ResponseWriter, r *http.Request) error {
	u, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	fs, err := fed.Followings(r.Context(), u)
	if err != nil {
		return err
	}
	out := followingList{Items: []followingJSON{}}
	for i := range fs {
		out.Items = append(out.Items, toFollowing(&fs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) unfollow(w http.ResponseWriter, r *http.Request) error {
	u, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := fed.Unfollow(r.Context(), u, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) remoteCatalogue(w http.ResponseWriter, r *http.Request) error {
	_, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	actor, tracks, err := fed.Catalogue(r.Context(), r.URL.Query().Get("handle"), limit)
	if err != nil {
		return err
	}
	out := catalogueJSON{Actor: toRemoteActor(actor), Tracks: []remoteTrackJSON{}}
	for _, t := range tracks {
		if s.RemoteMediaCache {
			t.HLSURL = cachedRemoteURL(t.HLSURL)
		}
		out.Tracks = append(out.Tracks, remoteTrackJSON{
			ID: t.IRI, Title: t.Title, Album: t.Album, Genre: t.Genre, DurationMS: t.DurationMS,
			PageURL: t.PageURL, HLSURL: t.HLSURL, OriginalURL: t.OriginalURL, CoverURL: t.CoverURL, Published: t.Published,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	u, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	items, err := fed.Feed(r.Context(), u, limit)
	if err != nil {
		return err
	}
	out := feedList{Items: []feedItemJSON{}}
	for _, it := range items {
		out.Items = append(out.Items, feedItemJSON{Type: it.Type, Actor: toRemoteActor(&it.Actor), Object: it.Object, URL: it.URL, Title: it.Title, Text: it.Text, Published: it.Published})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listDomainBlocks(w http.ResponseWriter, r *http.Request) error {
	// The federation checks that admin is one.
	admin, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	blocks, err := fed.DomainBlocks(r.Context(), admin)
	if err != nil {
		return err
	}
	out := domainBlockList{Items: []domainBlockJSON{}}
	for _, b := range blocks {
		out.Items = append(out.Items, domainBlockJSON(b))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) blockDomain(w http.ResponseWriter, r *http.Request) error {
	// The federation checks that admin is one.
	admin, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	var in domainBlockInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	b, err := fed.BlockDomain(r.Context(), admin, in.Host, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, domainBlockJSON(*b))
	return nil
}

func (s *Server) unblockDomain(w http.ResponseWriter, r *http.Request) error {
	// The federation checks that admin is one.
	admin, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	if err := fed.UnblockDomain(r.Context(), admin, r.PathValue("host")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Admin.

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	users, total, err := s.Store.ListUsers(r.Context(), p)
	if err != nil {
		return err
	}
	out := userPage{Items: []userJSON{}, Total: total, Limit: p.Limit, Offset: p.Offset}
	for i := range users {
		out.Items = append(out.Items, toUser(&users[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminPatchUser(w http.ResponseWriter, r *http.Request) error {
	admin, err := s.requireAdmin(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in userInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	var u *nineten.User
	if in.Role != nil {
		if u, err = s.Accounts.SetRole(r.Context(), admin, id, nineten.Role(*in.Role)); err != nil {
			return err
		}
	}
	if in.Disabled != nil {
		if u, err = s.Accounts.SetDisabled(r.Context(), admin, id, *in.Disabled); err != nil {
			return err
		}
	}
	if u == nil {
		return nineten.E("server.adminPatchUser", nineten.KindInvalid, "send disabled and/or role")
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (s *Server) editProfile(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in profileInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if u, err = s.Accounts.EditProfile(r.Context(), u, account.ProfileEdit{DisplayName: in.DisplayName, Bio: in.Bio}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (s *Server) closeOwn(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in closeInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Accounts.CloseOwn(r.Context(), u, in.Password); err != nil {
		return err
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminCloseUser(w http.ResponseWriter, r *http.Request) error {
	admin, err := s.requireAdmin(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Accounts.CloseAccount(r.Context(), admin, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminPayOutClosed(w http.ResponseWriter, r *http.Request) error {
	var in closedPayoutInput
	admin, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	txs, err := s.Accounts.PayOutClosed(r.Context(), admin, id, in.Ref)
	if err != nil {
		return err
	}
	out := moneyTxList{Items: []moneyTxJSON{}}
	for i := range txs {
		out.Items = append(out.Items, toMoneyTx(&txs[i]))
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) adminJobs(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	byTrack, err := s.Catalog.ProcessingJobs(r.Context())
	if err != nil {
		return err
	}
	jobs, err := s.Store.ActiveJobs(r.Context())
	if err != nil {
		return err
	}
	trackOf := map[nineten.ID]nineten.ID{}
	for tid, j := range byTrack {
		trackOf[j.ID] = tid
	}
	out := jobList{Items: []jobJSON{}}
	for i := range jobs {
		out.Items = append(out.Items, *toJob(&jobs[i], trackOf[jobs[i].ID]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
