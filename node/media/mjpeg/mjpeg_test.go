package mjpeg

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"testing"
	"time"
)

// frame is a picture that says its index: its grey level.
func frame(i int) image.Image {
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	for p := range img.Pix {
		img.Pix[p] = uint8(i * 20)
	}
	return img
}

// index reads a frame's index back from its JPEG.
func index(t *testing.T, b []byte) int {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("a part that is no JPEG: %v", err)
	}
	g := color.GrayModel.Convert(img.At(32, 24)).(color.Gray)
	return (int(g.Y) + 10) / 20
}

// viewer reads a feed as a browser does: each part by its length, as
// soon as its bytes are there.
type viewer struct {
	t *testing.T
	r *bufio.Reader
}

// view opens the feed served at url.
func view(t *testing.T, url string) *viewer {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] != Boundary {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	return &viewer{t: t, r: bufio.NewReader(resp.Body)}
}

// next returns the next frame; nil at the closing boundary.
func (v *viewer) next() []byte {
	v.t.Helper()
	line, err := v.r.ReadString('\n')
	if err != nil {
		v.t.Fatalf("no next part: %v", err)
	}
	switch line {
	case "--" + Boundary + "--\r\n":
		return nil
	case "--" + Boundary + "\r\n":
	default:
		v.t.Fatalf("a part starts with %q", line)
	}
	header, err := textproto.NewReader(v.r).ReadMIMEHeader()
	if err != nil {
		v.t.Fatal(err)
	}
	if header.Get("Content-Type") != "image/jpeg" {
		v.t.Fatalf("a part of type %q", header.Get("Content-Type"))
	}
	n, err := strconv.Atoi(header.Get("Content-Length"))
	if err != nil {
		v.t.Fatalf("a part without a length: %v", header)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(v.r, b); err != nil || string(b[n:]) != "\r\n" {
		v.t.Fatalf("a part of %d bytes cut short: %v", n, err)
	}
	return b[:n]
}

func TestViewerSeesEveryFrameItWaitsFor(t *testing.T) {
	f := NewFeed()
	srv := httptest.NewServer(f)
	defer srv.Close()
	r := view(t, srv.URL)
	for i := range 10 {
		if err := f.Publish(frame(i)); err != nil {
			t.Fatal(err)
		}
		if got := index(t, r.next()); got != i {
			t.Fatalf("frame %d shows %d", i, got)
		}
	}
	f.Close()
	if b := r.next(); b != nil {
		t.Fatalf("after Close: a part of %d bytes, want the closing boundary", len(b))
	}
	if err := f.Publish(frame(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
}

// A viewer that stops reading holds up neither the publisher nor another
// viewer, which still gets the newest frame.
func TestStalledViewer(t *testing.T) {
	f := NewFeed()
	srv := httptest.NewServer(f)
	defer srv.Close()
	stalled, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := stalled.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(stalled).ReadString('\n')
	if err != nil || status != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("status line %q, %v", status, err)
	}
	// Frames far beyond what the stalled connection's buffers hold.
	big := bytes.Repeat([]byte{0xff}, 256<<10)
	for range 200 {
		if err := f.PublishJPEG(big); err != nil {
			t.Fatal(err)
		}
	}
	var last bytes.Buffer
	if err := jpeg.Encode(&last, frame(7), nil); err != nil {
		t.Fatal(err)
	}
	if err := f.PublishJPEG(last.Bytes()); err != nil {
		t.Fatal(err)
	}
	r := view(t, srv.URL)
	if got := index(t, r.next()); got != 7 {
		t.Fatalf("the other viewer sees frame %d, want the newest, 7", got)
	}
	done := make(chan struct{})
	go func() {
		f.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for the stalled viewer")
	}
}

// BenchmarkMJPEGFrame640x480 encodes one VGA frame for the UI: the cost of
// showing a participant's video, per frame.
func BenchmarkMJPEGFrame640x480(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 7)
	}
	f := NewFeed()
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Publish(img); err != nil {
			b.Fatal(err)
		}
	}
}
