package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node/picture"
)

// pictureRoutes take a picture in their body, so a larger one.
var pictureRoutes = map[string]int64{
	"PUT /api/v1/me/avatar":          MaxPictureBody,
	"PATCH /api/v1/communities/{id}": MaxPictureBody,
}

func (s *Server) putMyAvatar(r *http.Request) (int, any, error) {
	var in struct {
		Image []byte `json:"image"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Image) == 0 {
		return 0, nil, invalid("image is required: DELETE /me/avatar removes the avatar")
	}
	avatar, err := picture.Shrink(in.Image, picture.Avatar)
	if err != nil {
		return 0, nil, err
	}
	return s.setAvatar(r, avatar)
}

func (s *Server) deleteMyAvatar(r *http.Request) (int, any, error) { return s.setAvatar(r, nil) }

func (s *Server) setAvatar(r *http.Request, avatar []byte) (int, any, error) {
	p := s.node.Profile()
	p.Avatar = avatar
	if err := s.node.SetLocalProfile(r.Context(), p); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.me(), nil
}

func (s *Server) getMyAvatar(*http.Request) (int, any, error) {
	return pictureAnswer(s.node.Profile().Avatar)
}

// getMemberAvatar answers the avatar a member shows in a community: the
// one its MemberJSON's avatar names.
func (s *Server) getMemberAvatar(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	u, err := pathUser(r)
	if err != nil {
		return 0, nil, err
	}
	if c.Members[u] == nil {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no member %s", u)
	}
	return pictureAnswer(s.node.MemberProfile(c, u).Avatar)
}

func pictureAnswer(b []byte) (int, any, error) {
	if len(b) == 0 {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no avatar")
	}
	return http.StatusOK, imageBody(b), nil
}

// avatarTag names an avatar's content: what MeJSON and MemberJSON show
// (a client refetches the picture when it changes) and the picture's
// ETag. Empty for no avatar.
func avatarTag(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// imageBody is a picture answered as itself rather than as JSON. Its URL
// keeps its name while the picture changes, so a client revalidates it
// (no-cache) and gets 304 while its ETag still matches.
type imageBody []byte

func (b imageBody) write(w http.ResponseWriter, r *http.Request) {
	etag := `"` + avatarTag(b) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	// crdt and picture let only PNG and JPEG through.
	h.Set("Content-Type", http.DetectContentType(b))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimPrefix(strings.TrimSpace(t), "W/"); t == etag || t == "*" {
			return true
		}
	}
	return false
}
