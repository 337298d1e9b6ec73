//go:build media

package device

import (
	"crypto/rand"
	"sync"
	"testing"

	"github.com/ancore/ancore/node/media"
)

// trickle holds one side's candidates until the other side has its
// description, then hands them over as they come.
type trickle struct {
	mu      sync.Mutex
	to      *media.Session
	pending []string
	t       *testing.T
}

func (tr *trickle) candidate(c string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.to == nil {
		tr.pending = append(tr.pending, c)
		return
	}
	if err := tr.to.AddCandidate(c); err != nil {
		tr.t.Errorf("add candidate: %v", err)
	}
}

func (tr *trickle) ready(to *media.Session) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.to = to
	for _, c := range tr.pending {
		if err := to.AddCandidate(c); err != nil {
			tr.t.Errorf("add candidate: %v", err)
		}
	}
}

// TestCallOnNullDevices: a session whose devices fell back to the null
// backend still connects and keeps both on its clock: the other side
// receives its (silent) frames, and it plays the other side's tone.
func TestCallOnNullDevices(t *testing.T) {
	t.Parallel()
	d, err := open(Config{}, noSoundSystem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	keys := func() ([]byte, [][]byte, error) { return key, [][]byte{key}, nil }
	callID, silentDev, toneDev := make([]byte, 16), []byte("silent device"), []byte("tone device")
	heard := &media.Recorder{}
	toSilent, toTone := &trickle{t: t}, &trickle{t: t}
	silent, err := media.NewSession(media.SessionConfig{
		Call: callID, Device: silentDev, Peers: [][]byte{toneDev}, Keys: keys,
		Source: d.Capture, Sink: d.Playback, Events: media.Events{Candidate: toTone.candidate},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	tone, err := media.NewSession(media.SessionConfig{
		Call: callID, Device: toneDev, Peers: [][]byte{silentDev}, Keys: keys,
		Source: media.NewToneSource(440, 0.3), Sink: heard, Events: media.Events{Candidate: toSilent.candidate},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tone.Close() })

	offer, err := silent.Offer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	answer, err := tone.Answer(t.Context(), offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := silent.SetAnswer(t.Context(), answer); err != nil {
		t.Fatal(err)
	}
	toTone.ready(tone)
	toSilent.ready(silent)

	poll.For(t, "the null capture's frames to reach the other side", func() bool {
		return tone.Stats().Opened > 0 && len(heard.Last(media.FrameSamples)) == media.FrameSamples
	})
	poll.For(t, "the null playback to play 25 frames of the tone", func() bool { return d.Stats().Played >= 25 })
	if !d.Silent() {
		t.Error("the devices of a machine without sound are not Silent")
	}
}
