package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func newInviteOwner(t *testing.T, s *Store, email string) Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), email, "h", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInviteCodes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ada := newInviteOwner(t, s, "ada@example.org")
	bob := newInviteOwner(t, s, "bob@example.org")
	now := time.Now().Truncate(time.Microsecond)

	c, err := s.CreateInviteCode(ctx, InviteCode{Code: "ABCDEFGH12", Community: []byte{1, 2}, Link: "ancore://invite/x",
		AccountID: ada.ID, Expires: now.Add(time.Hour), MaxUses: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Uses != 0 || c.MaxUses != 2 || !c.Expires.Equal(now.Add(time.Hour)) || !c.Revoked.IsZero() || c.CreatedAt.IsZero() {
		t.Fatalf("created %+v", c)
	}
	if _, err := s.CreateInviteCode(ctx, InviteCode{Code: "ABCDEFGH12", Community: []byte{1}, Link: "l", AccountID: bob.ID}); !errors.Is(err, ErrExists) {
		t.Fatalf("taken code: %v", err)
	}
	if _, err := s.CreateInviteCode(ctx, InviteCode{Code: "NEGATIVE00", Community: []byte{1}, Link: "l", AccountID: bob.ID, MaxUses: -1}); err == nil {
		t.Fatal("negative max uses stored")
	}

	for want := 1; want <= 2; want++ {
		got, err := s.ResolveInviteCode(ctx, "ABCDEFGH12", now)
		if err != nil || got.Uses != want || got.Link != "ancore://invite/x" {
			t.Fatalf("resolve %d: %+v, %v", want, got, err)
		}
	}
	if _, err := s.ResolveInviteCode(ctx, "ABCDEFGH12", now); !errors.Is(err, ErrExhausted) {
		t.Fatalf("third resolve of two: %v", err)
	}
	if _, err := s.ResolveInviteCode(ctx, "NOSUCHCODE", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}

	never, err := s.CreateInviteCode(ctx, InviteCode{Code: "NEVER00000", Community: []byte{3}, Link: "l", AccountID: ada.ID})
	if err != nil || !never.Expires.IsZero() {
		t.Fatalf("code without expiry: %+v, %v", never, err)
	}
	if got, err := s.ResolveInviteCode(ctx, "NEVER00000", now.Add(100*365*24*time.Hour)); err != nil || got.Uses != 1 {
		t.Fatalf("a code that never expires, in a century: %+v, %v", got, err)
	}
	if _, err := s.ResolveInviteCode(ctx, "ABCDEFGH12", now.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired and exhausted: %v, want ErrExpired", err)
	}

	list, err := s.ListInviteCodes(ctx, ada.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("ada's codes: %+v, %v", list, err)
	}
	if list, err := s.ListInviteCodes(ctx, bob.ID); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("bob's codes: %#v, %v", list, err)
	}

	if err := s.RevokeInviteCode(ctx, "NEVER00000", bob.ID, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke by another account: %v", err)
	}
	if err := s.RevokeInviteCode(ctx, "NEVER00000", ada.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeInviteCode(ctx, "NEVER00000", ada.ID, now); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	if _, err := s.ResolveInviteCode(ctx, "NEVER00000", now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked code: %v", err)
	}
	if list, _ := s.ListInviteCodes(ctx, ada.ID); len(list) != 1 || list[0].Code != "ABCDEFGH12" {
		t.Fatalf("ada's codes after revoking one: %+v", list)
	}
}

// TestResolveInviteCodeConcurrent: a code with n uses resolves exactly n
// times however many resolve it at once.
func TestResolveInviteCodeConcurrent(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ada := newInviteOwner(t, s, "ada@example.org")
	const maxUses, tries = 5, 50
	if _, err := s.CreateInviteCode(ctx, InviteCode{Code: "RACE000000", Community: []byte{1}, Link: "l", AccountID: ada.ID, MaxUses: maxUses}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, tries)
	for range tries {
		wg.Go(func() {
			_, err := s.ResolveInviteCode(ctx, "RACE000000", time.Now())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	counts := map[string]int{}
	for err := range errs {
		counts[fmt.Sprint(err)]++
		if err != nil && !errors.Is(err, ErrExhausted) {
			t.Errorf("resolve: %v", err)
		}
	}
	if counts["<nil>"] != maxUses {
		t.Fatalf("outcomes %v, want exactly %d successes", counts, maxUses)
	}
	c, err := s.ListInviteCodes(ctx, ada.ID)
	if err != nil || c[0].Uses != maxUses {
		t.Fatalf("uses recorded: %+v, %v", c, err)
	}
}
