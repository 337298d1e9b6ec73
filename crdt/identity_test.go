package crdt

import (
	"bytes"
	"strings"
	"testing"
)

func TestKeyText(t *testing.T) {
	t.Parallel()
	id := newTestUser(t).ID()
	text := id.String()
	if text != KeyText(id[:]) || len(text) != 52 || text != strings.ToLower(text) {
		t.Fatalf("UserID.String = %q, KeyText = %q; want the same 52 lowercase characters", text, KeyText(id[:]))
	}
	for _, s := range []string{text, strings.ToUpper(text)} {
		key, err := ParseKeyText(s)
		if err != nil || !bytes.Equal(key, id[:]) {
			t.Errorf("ParseKeyText(%q) = %x, %v; want the key back", s, key, err)
		}
	}
	if _, err := ParseKeyText("not a key!"); err == nil {
		t.Error("ParseKeyText read a string that is not base32")
	}
}
