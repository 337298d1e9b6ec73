//go:build !media

package media

import (
	"errors"
	"testing"
)

func TestUnavailableWithoutTag(t *testing.T) {
	t.Parallel()
	if _, err := NewEncoder(EncoderConfig{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewEncoder: %v, want ErrUnavailable", err)
	}
	if _, err := NewDecoder(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewDecoder: %v, want ErrUnavailable", err)
	}
	keys := func() ([]byte, [][]byte, error) { return make([]byte, 32), nil, nil }
	cfg := SessionConfig{Call: make([]byte, 16), Device: make([]byte, 32), Keys: keys, Source: NewToneSource(440, 0.3), Sink: &Recorder{}}
	if _, err := NewSession(cfg); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewSession: %v, want ErrUnavailable", err)
	}
}
