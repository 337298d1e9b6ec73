package media

import (
	"context"
	"math"
	"sync"
	"time"
)

// Source is where a call's sound comes from: ReadFrame fills pcm
// (FrameSamples of 48 kHz mono) with the next 20 ms, blocking until they
// are captured; an error (ctx's, once the session closes) ends sending.
type Source interface {
	ReadFrame(ctx context.Context, pcm []int16) error
}

// Sink is where the other side's sound goes: WriteFrame takes each 20 ms
// frame as it is played out (decoded, recovered from FEC or concealed).
// It must not keep pcm, which is reused.
type Sink interface {
	WriteFrame(pcm []int16)
}

// ToneSource is a synthetic Source: a sine of one frequency, handed over
// frame by frame on a 20 ms clock as a capture device would.
type ToneSource struct {
	freq, amp float64
	start     time.Time // of the clock, at the first frame read
	next      int       // frames handed over
}

// NewToneSource is a tone of freq Hz at amp (of full scale).
func NewToneSource(freq, amp float64) *ToneSource { return &ToneSource{freq: freq, amp: amp} }

// ReadFrame waits until the next frame is "captured" and fills pcm with
// it.
func (s *ToneSource) ReadFrame(ctx context.Context, pcm []int16) error {
	if s.next == 0 {
		s.start = time.Now()
	}
	captured := time.NewTimer(time.Until(s.start.Add(time.Duration(s.next+1) * FrameDuration)))
	defer captured.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-captured.C:
	}
	copy(pcm, ToneFrame(s.freq, s.amp, s.next))
	s.next++
	return nil
}

// ToneFrame is frame i of a sine of freq Hz at amp (of full scale),
// continuous across frames.
func ToneFrame(freq, amp float64, i int) []int16 {
	pcm := make([]int16, FrameSamples)
	for j := range pcm {
		k := float64(i*FrameSamples + j)
		pcm[j] = int16(amp * math.MaxInt16 * math.Sin(2*math.Pi*freq*k/SampleRate))
	}
	return pcm
}

// ToneLevel is the amplitude (of full scale) of the component of pcm at
// freq, by the Goertzel algorithm: 2|X(f)|/N, which is A for a sine of
// amplitude A.
func ToneLevel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x)/math.MaxInt16 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(pcm))
}

// Recorder is a Sink that keeps what it is given, for tests and
// diagnostics.
type Recorder struct {
	mu  sync.Mutex
	pcm []int16
}

// WriteFrame appends pcm to the recording.
func (r *Recorder) WriteFrame(pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pcm = append(r.pcm, pcm...)
}

// Last returns a copy of the last n samples recorded (all of them if
// fewer).
func (r *Recorder) Last(n int) []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.pcm[max(0, len(r.pcm)-n):]...)
}
