package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestSettings(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.Setting(ctx, "key"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing setting: %v, want ErrNotFound", err)
	}
	v, err := s.InitSetting(ctx, "key", []byte("first"))
	if err != nil || !bytes.Equal(v, []byte("first")) {
		t.Fatalf("InitSetting = %q, %v", v, err)
	}
	v, err = s.InitSetting(ctx, "key", []byte("second"))
	if err != nil || !bytes.Equal(v, []byte("first")) {
		t.Fatalf("second InitSetting = %q, %v; the first value must stay", v, err)
	}
}
