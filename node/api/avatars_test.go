package api

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/picture"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	for _, t := range []string{"image/png", "image/jpeg"} {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
	}
}

// testPhoto is a w×h picture with gradients and grain, so that it
// compresses like a photograph, encoded as PNG or JPEG.
func testPhoto(t *testing.T, w, h int, asPNG bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := 0; i < len(img.Pix); i += 4 {
		x, y, n := (i/4)%w, (i/4)/w, uint8(r.IntN(24))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*255/w)^n, uint8(y*255/h)^n, uint8((x+y)%256)^n, 0xff
	}
	var buf bytes.Buffer
	var err error
	if asPNG {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngBomb is a PNG header that claims a 60000×60000 canvas: 17 bytes of
// IHDR after the signature, no pixels.
func pngBomb() []byte {
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32([]byte("IHDR"), 60000), 60000)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13)
	return binary.BigEndian.AppendUint32(append(b, ihdr...), crc32.ChecksumIEEE(ihdr))
}

// getPicture fetches a picture route, validated against the document; it
// returns the status, the body and the ETag.
func (a *apiNode) getPicture(path, ifNoneMatch string) (int, []byte, string) {
	a.t.Helper()
	header := http.Header{}
	if ifNoneMatch != "" {
		header.Set("If-None-Match", ifNoneMatch)
	}
	resp, raw := a.send("GET", path, nil, header)
	if resp.StatusCode == 200 && resp.Header.Get("Cache-Control") != "private, no-cache" {
		a.t.Errorf("GET %s: Cache-Control %q", path, resp.Header.Get("Cache-Control"))
	}
	return resp.StatusCode, raw, resp.Header.Get("ETag")
}

// squareWithin decodes a stored picture and checks its bounds.
func squareWithin(t *testing.T, b []byte, bound picture.Bound) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("stored picture does not decode: %v", err)
	}
	if len(b) > bound.MaxBytes || cfg.Width != cfg.Height || cfg.Width > bound.Side || (format != "png" && format != "jpeg") {
		t.Fatalf("stored picture: %s %d×%d, %d bytes; want a square within %+v", format, cfg.Width, cfg.Height, len(b), bound)
	}
}

// TestAPIPictures: a large photo becomes a community's icon and a user's
// avatar, and the other member sees both; pictures the node refuses
// change nothing.
func TestAPIPictures(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Pictures"}, &comm)
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)

	// The icon: a camera photo.
	photo := testPhoto(t, 3000, 2000, false)
	if len(photo) <= crdt.MaxIconSize || len(photo) > picture.MaxInputBytes {
		t.Fatalf("the test photo has %d bytes", len(photo))
	}
	var got CommunityJSON
	a.must(200, "PATCH", "/communities/"+comm.ID, map[string]any{"icon": photo}, &got)
	squareWithin(t, got.Icon, picture.Icon)
	icon := got.Icon
	waitFor(t, "b sees the icon", func() bool {
		var c CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &c) == 200 && bytes.Equal(c.Icon, icon)
	})

	// The avatar: a large PNG screenshot, set by b.
	var bme MeJSON
	b.must(200, "PUT", "/me/avatar", map[string]any{"image": testPhoto(t, 1200, 900, true)}, &bme)
	if len(bme.Avatar) != 16 {
		t.Fatalf("me after PUT /me/avatar: %+v", bme)
	}
	status, mine, etag := b.getPicture("/me/avatar", "")
	if status != 200 || etag != `"`+bme.Avatar+`"` {
		t.Fatalf("GET /me/avatar: %d, ETag %s", status, etag)
	}
	squareWithin(t, mine, picture.Avatar)
	memberAvatar := func(n *apiNode) string {
		var members []MemberJSON
		n.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
		for _, m := range members {
			if m.User == bme.User {
				return m.Avatar
			}
		}
		return "(no member)"
	}
	waitFor(t, "a sees b's avatar", func() bool { return memberAvatar(a) == bme.Avatar })
	route := "/communities/" + comm.ID + "/members/" + bme.User + "/avatar"
	status, seen, etag := a.getPicture(route, "")
	if status != 200 || !bytes.Equal(seen, mine) || etag != `"`+bme.Avatar+`"` {
		t.Fatalf("GET %s: %d, %d bytes, ETag %s; want b's avatar", route, status, len(seen), etag)
	}
	if status, body, _ := a.getPicture(route, etag); status != 304 || len(body) != 0 {
		t.Fatalf("GET with If-None-Match: %d, %d bytes; want 304", status, len(body))
	}
	var ame MeJSON
	a.must(200, "GET", "/me", nil, &ame)
	if status, _, _ := a.getPicture("/communities/"+comm.ID+"/members/"+ame.User+"/avatar", ""); status != 404 {
		t.Fatalf("a member without an avatar: %d, want 404", status)
	}

	// Refused pictures change neither the avatar nor the icon.
	tooBig := append(testPhoto(t, 8, 8, true), make([]byte, picture.MaxInputBytes)...) // within the body cap
	for _, c := range []struct {
		name  string
		image []byte
		want  int
		code  string
	}{
		{"garbage", []byte("this is no picture at all"), 422, "not_image"},
		{"a bomb header", pngBomb(), 413, "image_too_large"},
		{"over 10 MiB", tooBig, 413, "image_too_large"},
		{"over the body cap", append(tooBig, make([]byte, MaxPictureBody)...), 413, "too_large"},
		{"empty", []byte{}, 422, "invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, code := b.failure("PUT", "/me/avatar", map[string]any{"image": c.image}); status != c.want || code != c.code {
				t.Errorf("PUT /me/avatar: %d %s, want %d %s", status, code, c.want, c.code)
			}
			if c.name == "empty" {
				return
			}
			if status, code := a.failure("PATCH", "/communities/"+comm.ID, map[string]any{"icon": c.image}); status != c.want || code != c.code {
				t.Errorf("PATCH the icon: %d %s, want %d %s", status, code, c.want, c.code)
			}
		})
	}
	var meAfter MeJSON
	var commAfter CommunityJSON
	b.must(200, "GET", "/me", nil, &meAfter)
	a.must(200, "GET", "/communities/"+comm.ID, nil, &commAfter)
	if meAfter.Avatar != bme.Avatar || !bytes.Equal(commAfter.Icon, icon) {
		t.Fatalf("refused pictures changed something: me %+v, icon %d bytes", meAfter, len(commAfter.Icon))
	}

	// Removing the avatar and the icon.
	var cleared MeJSON // a fresh one: JSON leaves absent fields as they were
	b.must(200, "DELETE", "/me/avatar", nil, &cleared)
	if cleared.User != bme.User || cleared.Avatar != "" {
		t.Fatalf("me after DELETE /me/avatar: %+v", cleared)
	}
	waitFor(t, "a sees b's avatar removed", func() bool { return memberAvatar(a) == "" })
	if status, _, _ := a.getPicture(route, ""); status != 404 {
		t.Fatalf("GET %s after removal: %d, want 404", route, status)
	}
	if status, _, _ := b.getPicture("/me/avatar", ""); status != 404 {
		t.Fatalf("GET /me/avatar after removal: %d, want 404", status)
	}
	var plain CommunityJSON
	a.must(200, "PATCH", "/communities/"+comm.ID, map[string]any{"icon": ""}, &plain)
	if len(plain.Icon) != 0 {
		t.Fatalf("icon not removed: %d bytes", len(got.Icon))
	}
}
