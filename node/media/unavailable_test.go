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
}
