package store

import (
	"context"
	"testing"

	"github.com/ancore/ancore/relay/store/pgtest"
)

// openTest opens a store on a database of its own.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestOpenMigrates(t *testing.T) {
	s := openTest(t)
	var n int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM ops").Scan(&n); err != nil {
		t.Fatal(err)
	}
	// Opening again finds nothing to apply.
	if err := migrate(context.Background(), s.pool); err != nil {
		t.Fatal(err)
	}
}
