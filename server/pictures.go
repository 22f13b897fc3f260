package server

import (
	"io"
	"net/http"
	"path"
	"regexp"

	nineten "nineten.dev"
	"nineten.dev/picture"
)

// Profile pictures: avatars and headers of listeners and artist profiles.

func (s *Server) pictureRoutes() []route {
	upload := ` (multipart field "file": JPEG, PNG or GIF up to 10 MiB; an avatar is cropped square to 400×400, a header to 1500×500; your followers elsewhere get the change)`
	return []route{
		{Method: "PUT", Path: "/api/v1/me/pictures/{kind}", Summary: "Set your avatar or header (kind: avatar or header)" + upload, Tag: "auth", Auth: "user", Body: uploadForm{}, Multipart: true, Status: 200, Resp: userJSON{}, handle: s.putMyPicture},
		{Method: "DELETE", Path: "/api/v1/me/pictures/{kind}", Summary: "Remove your avatar or header", Tag: "auth", Auth: "user", Status: 200, Resp: userJSON{}, handle: s.deleteMyPicture},
		{Method: "PUT", Path: "/api/v1/artists/{id}/pictures/{kind}", Summary: "Set an artist profile's avatar or header (its owner or an admin)" + upload, Tag: "catalog", Auth: "user", Body: uploadForm{}, Multipart: true, Status: 200, Resp: artistJSON{}, handle: s.putArtistPicture},
		{Method: "DELETE", Path: "/api/v1/artists/{id}/pictures/{kind}", Summary: "Remove an artist profile's avatar or header", Tag: "catalog", Auth: "user", Status: 200, Resp: artistJSON{}, handle: s.deleteArtistPicture},
	}
}

// pictureKind reads the {kind} of a picture route.
func pictureKind(r *http.Request) (picture.Kind, error) {
	k := picture.Kind(r.PathValue("kind"))
	if !k.Valid() {
		return "", nineten.E("server.pictureKind", nineten.KindNotFound, "a profile has two pictures: avatar and header")
	}
	return k, nil
}

func (s *Server) putMyPicture(w http.ResponseWriter, r *http.Request) error {
	return s.setMyPicture(w, r, true)
}

func (s *Server) deleteMyPicture(w http.ResponseWriter, r *http.Request) error {
	return s.setMyPicture(w, r, false)
}

func (s *Server) setMyPicture(w http.ResponseWriter, r *http.Request, upload bool) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	kind, err := pictureKind(r)
	if err != nil {
		return err
	}
	body, err := pictureBody(w, r, upload)
	if err != nil {
		return err
	}
	if u, err = s.Pictures.SetUser(r.Context(), u, kind, body); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (s *Server) putArtistPicture(w http.ResponseWriter, r *http.Request) error {
	return s.setArtistPicture(w, r, true)
}

func (s *Server) deleteArtistPicture(w http.ResponseWriter, r *http.Request) error {
	return s.setArtistPicture(w, r, false)
}

func (s *Server) setArtistPicture(w http.ResponseWriter, r *http.Request, upload bool) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	kind, err := pictureKind(r)
	if err != nil {
		return err
	}
	body, err := pictureBody(w, r, upload)
	if err != nil {
		return err
	}
	a, err := s.Pictures.SetArtist(r.Context(), u, id, kind, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toArtist(a))
	return nil
}

// pictureBody is the uploaded picture, or nil to remove one.
func pictureBody(w http.ResponseWriter, r *http.Request, upload bool) (io.Reader, error) {
	if !upload {
		return nil, nil
	}
	// The form's own bytes on top of the picture's limit.
	part, err := filePart(w, r, picture.MaxBytes+64<<10, nil)
	if err != nil {
		return nil, err
	}
	return part, nil
}

// pictureFile is the name of a stored profile picture under /media/profiles/.
var pictureFile = regexp.MustCompile(`^[ua][0-9]+-(avatar|header)-[0-9a-f]{16}\.(jpg|png)$`)

// profilePicture serves a profile picture. A picture's name changes with
// each upload, so the bytes under a name never change: cached for a year.
func (s *Server) profilePicture(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if !pictureFile.MatchString(file) {
		writeProblem(w, r, http.StatusNotFound, "no such picture")
		return
	}
	key, ctype, cache := picture.Prefix+"/"+file, "image/jpeg", "public, max-age=31536000, immutable"
	if path.Ext(file) == ".png" {
		ctype = "image/png"
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if u, ok := s.presigned(r, key, ctype, cache, ""); ok {
		redirect(w, r, u)
		return
	}
	s.serveBlob(w, r, key, ctype, cache)
}

// pictureURL is where a stored picture is served, or nil for none.
func pictureURL(key string) *string {
	if key == "" {
		return nil
	}
	u := "/media/" + key
	return &u
}
