package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

func TestAccounts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, "ada@example.org", "$argon2id$hash", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Email != "ada@example.org" || a.CreatedAt.IsZero() || a.UserKey != nil || a.IdentityBox != nil {
		t.Fatalf("created %+v", a)
	}
	if _, err := s.CreateAccount(ctx, "ada@example.org", "x", nil, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate email: %v, want ErrExists", err)
	}
	byEmail, err := s.AccountByEmail(ctx, "ada@example.org")
	if err != nil || byEmail.ID != a.ID || byEmail.PasswordHash != "$argon2id$hash" {
		t.Fatalf("by email: %+v, %v", byEmail, err)
	}
	if _, err := s.AccountByEmail(ctx, "bob@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown email: %v", err)
	}
	if _, err := s.AccountByID(ctx, a.ID+100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}

	key, box := bytes.Repeat([]byte{7}, 32), []byte("sealed")
	if err := s.SetIdentity(ctx, a.ID, key, box); err != nil {
		t.Fatal(err)
	}
	byID, err := s.AccountByID(ctx, a.ID)
	if err != nil || !bytes.Equal(byID.UserKey, key) || !bytes.Equal(byID.IdentityBox, box) {
		t.Fatalf("after SetIdentity: %+v, %v", byID, err)
	}
	if err := s.SetIdentity(ctx, a.ID+100, key, box); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetIdentity of no account: %v", err)
	}
	// A box without its user key restores nothing: the schema refuses it.
	if err := s.SetIdentity(ctx, a.ID, nil, box); err == nil {
		t.Fatal("a box without a user key was stored")
	}

	withBackup, err := s.CreateAccount(ctx, "bob@example.org", "h", key, box)
	if err != nil || !bytes.Equal(withBackup.IdentityBox, box) {
		t.Fatalf("create with backup: %+v, %v", withBackup, err)
	}
}

func TestSessions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, "ada@example.org", "h", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h := sha256.Sum256([]byte("token"))
	if err := s.CreateSession(ctx, h[:], a.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, h[:], a.ID, now.Add(time.Hour)); !errors.Is(err, ErrExists) {
		t.Fatalf("same token twice: %v", err)
	}
	got, err := s.SessionAccount(ctx, h[:], now)
	if err != nil || got.ID != a.ID {
		t.Fatalf("session: %+v, %v", got, err)
	}
	if _, err := s.SessionAccount(ctx, h[:], now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	other := sha256.Sum256([]byte("other"))
	if _, err := s.SessionAccount(ctx, other[:], now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	if err := s.RevokeSession(ctx, h[:], now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, h[:], now); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	if _, err := s.SessionAccount(ctx, h[:], now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked session: %v", err)
	}
	if err := s.RevokeSession(ctx, other[:], now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking an unknown session: %v", err)
	}
}

func TestDeleteEndedSessions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, "ada@example.org", "h", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	live, expired, revoked := sha256.Sum256([]byte("live")), sha256.Sum256([]byte("expired")), sha256.Sum256([]byte("revoked"))
	for _, h := range [][32]byte{live, expired, revoked} {
		exp := now.Add(time.Hour)
		if h == expired {
			exp = now.Add(-time.Minute)
		}
		if err := s.CreateSession(ctx, h[:], a.ID, exp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeSession(ctx, revoked[:], now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteEndedSessions(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want the expired and the revoked session", n, err)
	}
	if got, err := s.SessionAccount(ctx, live[:], now); err != nil || got.ID != a.ID {
		t.Fatalf("the live session went too: %v", err)
	}
}
