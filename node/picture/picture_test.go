package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"testing"
)

// photo is an opaque w×h picture with smooth colours and some grain, so
// that it compresses like a photograph rather than like a flat colour.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(r.IntN(32))
			img.Pix[img.PixOffset(x, y)+0] = uint8(x*255/w) ^ n
			img.Pix[img.PixOffset(x, y)+1] = uint8(y*255/h) ^ n
			img.Pix[img.PixOffset(x, y)+2] = uint8((x+y)*255/(w+h)) ^ n
			img.Pix[img.PixOffset(x, y)+3] = 0xff
		}
	}
	return img
}

func encoded(t testing.TB, enc func(*bytes.Buffer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngOf(t testing.TB, img image.Image) []byte {
	return encoded(t, func(b *bytes.Buffer) error { return png.Encode(b, img) })
}

func jpegOf(t testing.TB, img image.Image) []byte {
	return encoded(t, func(b *bytes.Buffer) error { return jpeg.Encode(b, img, &jpeg.Options{Quality: 95}) })
}

// checkFits decodes out and checks that it is a PNG or JPEG square of
// side pixels within the bound's bytes.
func checkFits(t *testing.T, out []byte, b Bound, side int) image.Image {
	t.Helper()
	if len(out) > b.MaxBytes {
		t.Fatalf("%d bytes, bound %d", len(out), b.MaxBytes)
	}
	img, format, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("result does not decode: %v", err)
	}
	if format != "png" && format != "jpeg" {
		t.Fatalf("result is %s", format)
	}
	if r := img.Bounds(); r.Dx() != r.Dy() || r.Dx() > side || r.Dx() < side/2 {
		t.Fatalf("result is %v, want a square of about %d", r, side)
	}
	return img
}

func TestShrinkFitsEveryFormat(t *testing.T) {
	webp, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 600, 400), color.Palette{color.Black, color.White, color.RGBA{200, 30, 30, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	for _, c := range []struct {
		name string
		data []byte
		side int // of the Icon bound's result
	}{
		{"large png", pngOf(t, photo(1600, 1200)), 256},
		{"large jpeg", jpegOf(t, photo(2000, 1500)), 256},
		{"gif", encoded(t, func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) }), 256},
		{"webp", webp, 150}, // the fixture is 150×103: it is cropped, not scaled up
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := Shrink(c.data, Icon)
			if err != nil {
				t.Fatal(err)
			}
			checkFits(t, out, Icon, c.side)
			out, err = Shrink(c.data, Avatar)
			if err != nil {
				t.Fatal(err)
			}
			checkFits(t, out, Avatar, 128)
		})
	}
}

// Grain that compresses badly still fits, at a lower quality or a smaller
// side.
func TestShrinkNoiseFits(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 800, 800))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 0xff
		}
	}
	out, err := Shrink(pngOf(t, img), Icon)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > Icon.MaxBytes {
		t.Fatalf("%d bytes", len(out))
	}
	if _, _, err := image.Decode(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
}

// A wide picture keeps its middle: the left and right thirds are cropped.
func TestShrinkCropsToCentredSquare(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 900, 300))
	for x := 0; x < 900; x++ {
		c := [3]color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}}[x/300]
		for y := 0; y < 300; y++ {
			img.SetRGBA(x, y, c)
		}
	}
	out, err := Shrink(pngOf(t, img), Icon)
	if err != nil {
		t.Fatal(err)
	}
	got := checkFits(t, out, Icon, 256)
	for _, p := range []image.Point{{2, 2}, {128, 128}, {253, 253}} {
		r, g, b, _ := got.At(p.X, p.Y).RGBA()
		if g>>8 < 200 || r>>8 > 60 || b>>8 > 60 {
			t.Fatalf("pixel %v is %d,%d,%d: not the green middle", p, r>>8, g>>8, b>>8)
		}
	}
}

func TestShrinkKeepsTransparency(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 32; x < 64; x++ {
			img.SetNRGBA(x, y, color.NRGBA{10, 20, 200, 255})
		}
	}
	out, err := Shrink(pngOf(t, img), Avatar)
	if err != nil {
		t.Fatal(err)
	}
	got := checkFits(t, out, Avatar, 64) // small pictures are not scaled up
	if _, _, _, a := got.At(5, 5).RGBA(); a != 0 {
		t.Fatalf("transparent pixel has alpha %d", a)
	}
}

// bombPNG is a valid PNG header that claims a w×h canvas, with no pixels.
func bombPNG(w, h uint32) []byte {
	ihdr := make([]byte, 0, 17)
	ihdr = append(ihdr, "IHDR"...)
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func TestShrinkRefuses(t *testing.T) {
	big := make([]byte, MaxInputBytes+1)
	copy(big, pngOf(t, photo(8, 8)))
	truncated := pngOf(t, photo(300, 300))
	truncated = truncated[:len(truncated)/2]
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"bomb header", bombPNG(100_000, 100_000), ErrTooLarge},
		{"just over the pixel limit", bombPNG(MaxPixels/1000+1, 1000), ErrTooLarge},
		{"over the byte limit", big, ErrTooLarge},
		{"text", []byte("hello, this is not a picture"), ErrNotImage},
		{"empty", nil, ErrNotImage},
		{"garbage after a PNG signature", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...), ErrNotImage},
		{"truncated", truncated, ErrNotImage},
		{"zero-sized", bombPNG(0, 10), ErrNotImage},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := Shrink(c.data, Icon)
			if !errors.Is(err, c.want) || out != nil {
				t.Fatalf("Shrink = %d bytes, %v; want %v", len(out), err, c.want)
			}
		})
	}
}

// BenchmarkShrinkJPEG4000x3000 shrinks a 12-megapixel photo to an icon:
// what a camera picture costs its sender. ms is one Shrink; out-bytes the
// icon it made.
func BenchmarkShrinkJPEG4000x3000(b *testing.B) {
	data := jpegOf(b, photo(4000, 3000))
	b.SetBytes(int64(len(data)))
	var out []byte
	for b.Loop() {
		var err error
		if out, err = Shrink(data, Icon); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms")
	b.ReportMetric(float64(len(out)), "out-bytes")
	b.ReportMetric(float64(len(data)), "in-bytes")
}

// FuzzShrink: whatever bytes a user picks, Shrink refuses them with one of
// its errors or returns a picture within the bound — never a panic.
func FuzzShrink(f *testing.F) {
	f.Add(pngOf(f, photo(40, 30)))
	f.Add(jpegOf(f, photo(30, 40)))
	f.Add(bombPNG(10, 10))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Pictures that are large by right (up to MaxPixels) are slow to
		// decode, not wrong: the fuzzer looks at small ones.
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			t.Skip()
		}
		out, err := Shrink(data, Avatar)
		if err != nil {
			if !errors.Is(err, ErrNotImage) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither ErrNotImage nor ErrTooLarge", err)
			}
			return
		}
		if len(out) > Avatar.MaxBytes {
			t.Fatalf("%d bytes, over %d", len(out), Avatar.MaxBytes)
		}
		img, _, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("Shrink made what does not decode: %v", err)
		}
		if r := img.Bounds(); r.Dx() != r.Dy() || r.Dx() > Avatar.Side || r.Dx() < 1 {
			t.Fatalf("Shrink made a %v picture", r)
		}
	})
}
