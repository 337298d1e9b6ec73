package media

import (
	"math"
	"testing"
)

func TestToneLevel(t *testing.T) {
	t.Parallel()
	var pcm []int16
	for i := range 50 {
		pcm = append(pcm, ToneFrame(440, 0.5, i)...)
	}
	if a := ToneLevel(pcm, 440); math.Abs(a-0.5) > 0.01 {
		t.Errorf("440 Hz in a 440 Hz tone of 0.5: %.3f", a)
	}
	if a := ToneLevel(pcm, 1000); a > 0.01 {
		t.Errorf("1 kHz in a 440 Hz tone: %.3f", a)
	}
	if a := ToneLevel(nil, 440); a != 0 {
		t.Errorf("440 Hz in nothing: %.3f", a)
	}
}
