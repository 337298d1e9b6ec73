package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestRecords(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ada, err := s.CreateAccount(ctx, "ada@example.org", "h", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bea, err := s.CreateAccount(ctx, "bea@example.org", "h", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, ada.ID, Record{ID: "a", Sealed: []byte("one")}, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, ada.ID, Record{ID: "b", Sealed: []byte("two")}, 2); err != nil {
		t.Fatal(err)
	}
	// Replacing a record is not a new one: the limit does not refuse it.
	if err := s.PutRecord(ctx, ada.ID, Record{ID: "a", Sealed: []byte("three")}, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, ada.ID, Record{ID: "c", Sealed: []byte("four")}, 2); !errors.Is(err, ErrFull) {
		t.Fatalf("a third record with room for two: %v, want ErrFull", err)
	}
	// Another account's records are its own: the same ID is another row.
	if err := s.PutRecord(ctx, bea.ID, Record{ID: "a", Sealed: []byte("bea's")}, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, ada.ID+bea.ID+100, Record{ID: "a", Sealed: []byte("x")}, 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record of no account: %v, want ErrNotFound", err)
	}
	got, err := s.Records(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a" || !bytes.Equal(got[0].Sealed, []byte("three")) ||
		got[1].ID != "b" || !bytes.Equal(got[1].Sealed, []byte("two")) || got[0].UpdatedAt.IsZero() {
		t.Fatalf("ada's records: %+v", got)
	}
	if err := s.DeleteRecord(ctx, ada.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecord(ctx, ada.ID, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting again: %v, want ErrNotFound", err)
	}
	if got, err := s.Records(ctx, ada.ID); err != nil || len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("after the delete: %+v, %v", got, err)
	}
	if got, err := s.Records(ctx, bea.ID); err != nil || len(got) != 1 || !bytes.Equal(got[0].Sealed, []byte("bea's")) {
		t.Fatalf("bea's records: %+v, %v", got, err)
	}
}

// TestRecordsLimitUnderConcurrency: puts of new IDs racing for the last
// places never leave more than the limit.
func TestRecordsLimitUnderConcurrency(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, "ada@example.org", "h", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const limit, tries = 5, 20
	var wg sync.WaitGroup
	errs := make([]error, tries)
	for i := range tries {
		wg.Go(func() { errs[i] = s.PutRecord(ctx, a.ID, Record{ID: fmt.Sprint(i), Sealed: []byte("x")}, limit) })
	}
	wg.Wait()
	stored := 0
	for _, err := range errs {
		switch {
		case err == nil:
			stored++
		case !errors.Is(err, ErrFull):
			t.Fatal(err)
		}
	}
	got, err := s.Records(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored != limit || len(got) != limit {
		t.Fatalf("%d puts succeeded and %d records stored, want %d", stored, len(got), limit)
	}
}
