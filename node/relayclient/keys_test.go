package relayclient

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ancore/ancore/crdt"
)

func newUser(t *testing.T) *crdt.User {
	t.Helper()
	u, err := crdt.NewUser()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestIdentityBackupRoundTrip(t *testing.T) {
	u := newUser(t)
	k := DeriveKeys("ann@example.org", "correct horse")
	sealed, err := k.SealIdentity(u.ID(), u.Seed())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatalf("not standard base64: %v", err)
	}
	if bytes.Contains(raw, u.Seed()) {
		t.Fatal("the seed is in the backup in clear")
	}
	// Another device types the email differently and derives again.
	again := DeriveKeys("  Ann@Example.ORG ", "correct horse")
	seed, err := again.OpenIdentity(u.ID(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seed, u.Seed()) {
		t.Fatal("the backup opened to another seed")
	}
	if again.Login != k.Login {
		t.Fatal("the login secret depends on how the email is typed")
	}
}

func TestIdentityBackupRefusals(t *testing.T) {
	u, other := newUser(t), newUser(t)
	k := DeriveKeys("ann@example.org", "correct horse")
	sealed, err := k.SealIdentity(u.ID(), u.Seed())
	if err != nil {
		t.Fatal(err)
	}
	wrong := DeriveKeys("ann@example.org", "correct horsf")
	if _, err := wrong.OpenIdentity(u.ID(), sealed); !errors.Is(err, ErrBadBackup) {
		t.Errorf("wrong password: %v", err)
	}
	otherEmail := DeriveKeys("bob@example.org", "correct horse")
	if _, err := otherEmail.OpenIdentity(u.ID(), sealed); !errors.Is(err, ErrBadBackup) {
		t.Errorf("another account's key: %v", err)
	}
	if _, err := k.OpenIdentity(other.ID(), sealed); !errors.Is(err, ErrBadBackup) {
		t.Errorf("claimed for another user: %v", err)
	}
	// A backup of a seed that is not the user's does not pass.
	mismatched, err := k.SealIdentity(other.ID(), u.Seed())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenIdentity(other.ID(), mismatched); !errors.Is(err, ErrBadBackup) {
		t.Errorf("a seed of another user: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sealed)
	for name, s := range map[string]string{
		"not base64": "%%%",
		"empty":      "",
		"truncated":  base64.StdEncoding.EncodeToString(raw[:20]),
		"version 2":  base64.StdEncoding.EncodeToString(append([]byte{2}, raw[1:]...)),
		"flipped":    base64.StdEncoding.EncodeToString(append(raw[:len(raw)-1:len(raw)-1], raw[len(raw)-1]^1)),
	} {
		if _, err := k.OpenIdentity(u.ID(), s); !errors.Is(err, ErrBadBackup) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoginSecret(t *testing.T) {
	const password = "correct horse"
	k := DeriveKeys("ann@example.org", password)
	raw, err := base64.RawURLEncoding.DecodeString(k.Login)
	if err != nil || len(raw) != 32 {
		t.Fatalf("login secret %q is not base64url of 32 bytes: %v", k.Login, err)
	}
	if strings.Contains(k.Login, password) || bytes.Equal(raw, k.backup[:]) {
		t.Fatal("the login secret gives away the password or the backup key")
	}
	if DeriveKeys("bob@example.org", password).Login == k.Login {
		t.Fatal("two accounts with one password share a login secret")
	}
	if DeriveKeys("ann@example.org", password+"!").Login == k.Login {
		t.Fatal("two passwords give one login secret")
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{"": false, "1234567": false, "12345678": true, "ééééééé": false, "éééééééé": true, "\xff\xff\xff\xff\xff\xff\xff\xff": false} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%q) = %v", pw, err)
		}
	}
}
