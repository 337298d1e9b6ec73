// Package mjpeg shows video to the UI as Motion JPEG: a response of type
// multipart/x-mixed-replace whose parts are JPEG frames, which an <img>
// renders as they come in WebKitGTK and Chromium alike — the window's
// WebKitGTK has no WebRTC, so the node decodes calls' video and the UI
// only shows pictures (DESIGN.md, "Calls — measured facts").
//
// A Feed is one participant's video: the decoder publishes frames, each
// encoded once, and every viewer gets the newest. A viewer that reads
// slower than frames come skips the frames it missed rather than falling
// behind, and never holds up the publisher or the other viewers.
package mjpeg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"strconv"
	"sync"
)

// Boundary separates the parts of a feed's response.
const Boundary = "ancore-frame"

// Quality is the JPEG quality frames are encoded at: loopback has the
// bandwidth, so sharpness wins.
const Quality = 80

// ErrClosed: the feed ended (the participant left, the call ended).
var ErrClosed = errors.New("mjpeg: feed closed")

// Feed is one video's frames for its viewers. It is safe for concurrent
// use.
type Feed struct {
	mu      sync.Mutex
	frame   []byte // the newest frame, JPEG; nil before the first
	seq     uint64 // frames published
	changed chan struct{}
	closed  bool
}

// NewFeed returns a feed with no frame yet.
func NewFeed() *Feed { return &Feed{changed: make(chan struct{})} }

// Publish encodes img and makes it the feed's newest frame.
func (f *Feed) Publish(img image.Image) error {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: Quality}); err != nil {
		return fmt.Errorf("mjpeg: %w", err)
	}
	return f.PublishJPEG(b.Bytes())
}

// PublishJPEG makes frame, a JPEG the feed now owns, its newest frame.
func (f *Feed) PublishJPEG(frame []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	f.frame = frame
	f.seq++
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

// Close ends the feed: its viewers' responses end.
func (f *Feed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.changed)
	}
}

// next returns the newest frame if it is newer than seen, else a channel
// that closes when there is one (or the feed closes).
func (f *Feed) next(seen uint64) (frame []byte, seq uint64, wait <-chan struct{}, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, 0, nil, ErrClosed
	}
	if f.seq > seen && f.frame != nil {
		return f.frame, f.seq, nil, nil
	}
	return nil, 0, f.changed, nil
}

// ServeHTTP streams the feed until it closes or the viewer goes.
func (f *Feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace; boundary="+Boundary)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	// The header now, not with the first frame: the viewer knows the
	// feed is there while the camera warms up.
	flush := http.NewResponseController(w)
	if err := flush.Flush(); err != nil {
		return
	}
	var seen uint64
	for {
		frame, seq, wait, err := f.next(seen)
		if err != nil {
			// The closing boundary: the stream ended, it was not cut.
			_, _ = w.Write([]byte("--" + Boundary + "--\r\n"))
			return
		}
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-r.Context().Done():
				return
			}
		}
		seen = seq
		if err := writePart(w, frame); err != nil {
			return
		}
		if err := flush.Flush(); err != nil {
			return
		}
	}
}

// writePart writes one frame as a part of the response. Its length comes
// first, so that a viewer shows the frame as soon as it has its bytes,
// not when the next part's boundary arrives.
func writePart(w http.ResponseWriter, frame []byte) error {
	head := "--" + Boundary + "\r\nContent-Type: image/jpeg\r\nContent-Length: " + strconv.Itoa(len(frame)) + "\r\n\r\n"
	if _, err := w.Write([]byte(head)); err != nil {
		return err
	}
	if _, err := w.Write(frame); err != nil {
		return err
	}
	_, err := w.Write([]byte("\r\n"))
	return err
}
