package media

import (
	"math"
	"testing"
)

// toneFrame is frame i of a sine of the given frequency and amplitude
// (of full scale), continuous across frames.
func toneFrame(freq float64, amp float64, i int) []int16 {
	pcm := make([]int16, FrameSamples)
	for j := range pcm {
		k := float64(i*FrameSamples + j)
		pcm[j] = int16(amp * math.MaxInt16 * math.Sin(2*math.Pi*freq*k/SampleRate))
	}
	return pcm
}

// goertzel is the amplitude (of full scale) of the component of pcm at
// freq: 2|X(f)|/N, which is A for a sine of amplitude A.
func goertzel(pcm []int16, freq float64) float64 {
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

func TestGoertzel(t *testing.T) {
	t.Parallel()
	var pcm []int16
	for i := range 50 {
		pcm = append(pcm, toneFrame(440, 0.5, i)...)
	}
	if a := goertzel(pcm, 440); math.Abs(a-0.5) > 0.01 {
		t.Errorf("440 Hz in a 440 Hz tone of 0.5: %.3f", a)
	}
	if a := goertzel(pcm, 1000); a > 0.01 {
		t.Errorf("1 kHz in a 440 Hz tone: %.3f", a)
	}
}
