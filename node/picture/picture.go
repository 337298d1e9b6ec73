// Package picture says what images the node accepts for community icons
// and user avatars, and shrinks them to fit the op that carries them.
//
// It accepts PNG, JPEG, GIF (the first frame) and WebP of at most
// MaxInputBytes and MaxPixels. The size is read from the header before
// anything is decoded, so a decompression bomb (a small file that claims a
// huge canvas) costs nothing. The picture is cropped to its centred square
// — icons and avatars are shown square or round — scaled down (never up)
// to the bound's side with Catmull-Rom, and encoded as PNG or JPEG,
// whichever is smaller, lowering the JPEG quality and then the side until
// it fits the bound's byte size.
package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	_ "image/gif" // decoders registered for image.Decode
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"

	"golang.org/x/image/draw"

	"github.com/ancore/ancore/crdt"
)

// Limits on what Shrink accepts. Anything a camera or a screenshot makes
// fits; beyond them a picture is refused before it is decoded.
const (
	MaxInputBytes = 10 << 20
	MaxPixels     = 50_000_000
)

// Errors of Shrink, checked with errors.Is.
var (
	ErrNotImage = errors.New("not a PNG, JPEG, GIF or WebP image")
	ErrTooLarge = errors.New("image too large")
)

// Bound is where a picture must fit: a square of Side pixels, encoded in
// at most MaxBytes.
type Bound struct {
	Side     int
	MaxBytes int
}

// The bounds of the pictures ops carry.
var (
	Icon   = Bound{Side: 256, MaxBytes: crdt.MaxIconSize}
	Avatar = Bound{Side: 128, MaxBytes: crdt.MaxAvatarSize}
)

// minSide is the smallest side Shrink tries before it gives up: below it
// a picture is no longer worth showing.
const minSide = 16

// jpegQualities are tried in turn when the best encoding does not fit.
var jpegQualities = []int{90, 80, 70, 60, 50}

// Shrink checks that data is an image Shrink accepts and returns it
// cropped, scaled and encoded to fit b: PNG or JPEG bytes.
func Shrink(data []byte, b Bound) ([]byte, error) {
	if len(data) > MaxInputBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxInputBytes)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: empty image", ErrNotImage)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d pixels, at most %d megapixels", ErrTooLarge, cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	src := centredSquare(img.Bounds())
	if src.Empty() { // a valid header over an empty picture (a 0×0 GIF frame)
		return nil, fmt.Errorf("%w: empty picture", ErrNotImage)
	}
	// Scaling the whole source once to the largest side, and every later
	// try from that small copy, keeps the tries cheap.
	first := scale(img, src, min(b.Side, src.Dx()))
	if out, ok := fit(first, first.Opaque(), b.MaxBytes); ok {
		return out, nil
	}
	if !first.Opaque() {
		// Transparency that no PNG of a useful size can keep: flatten it.
		if out, ok := fit(flatten(first), true, b.MaxBytes); ok {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: does not fit in %d bytes", ErrTooLarge, b.MaxBytes)
}

// fit encodes img within limit bytes, shrinking its side by a quarter at a
// time down to minSide (or its own side, if smaller).
func fit(img *image.RGBA, opaque bool, limit int) ([]byte, bool) {
	for side := img.Rect.Dx(); ; side = max(side*3/4, minSide) {
		small := img
		if side != img.Rect.Dx() {
			small = scale(img, img.Rect, side)
		}
		if out, ok := encodeWithin(small, opaque, limit); ok {
			return out, true
		}
		if side <= minSide {
			return nil, false
		}
	}
}

// centredSquare is the largest square centred in r.
func centredSquare(r image.Rectangle) image.Rectangle {
	s := min(r.Dx(), r.Dy())
	x, y := r.Min.X+(r.Dx()-s)/2, r.Min.Y+(r.Dy()-s)/2
	return image.Rect(x, y, x+s, y+s)
}

func scale(src image.Image, from image.Rectangle, side int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.CatmullRom.Scale(dst, dst.Rect, src, from, draw.Src, nil)
	return dst
}

// encodeWithin returns the smallest encoding of img within limit bytes:
// PNG, or for an opaque image JPEG at falling qualities.
func encodeWithin(img *image.RGBA, opaque bool, limit int) ([]byte, bool) {
	var best []byte
	var buf bytes.Buffer
	if png.Encode(&buf, img) == nil && buf.Len() <= limit {
		best = bytes.Clone(buf.Bytes())
	}
	if !opaque {
		return best, best != nil
	}
	for _, q := range jpegQualities {
		buf.Reset()
		if jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}) != nil {
			continue
		}
		if buf.Len() <= limit {
			if best == nil || buf.Len() < len(best) {
				best = bytes.Clone(buf.Bytes())
			}
			break
		}
	}
	return best, best != nil
}

// flatten draws img over white.
func flatten(img *image.RGBA) *image.RGBA {
	flat := image.NewRGBA(img.Rect)
	draw.Draw(flat, flat.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(flat, flat.Rect, img, img.Rect.Min, draw.Over)
	return flat
}
