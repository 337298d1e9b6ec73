// Package pgtest gives each test a database of its own on the machine's
// PostgreSQL (127.0.0.1:5432, user postgres; ANCORE_TEST_PG overrides the
// address of the server's admin database), dropped when the test ends.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// AdminDSN reaches the server's admin database.
func AdminDSN() string {
	if v := os.Getenv("ANCORE_TEST_PG"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var seq atomic.Int64

// DSN creates an empty database and returns its address; the database is
// dropped (with its connections) when t ends.
func DSN(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("ancore_test_%d_%d", os.Getpid(), seq.Add(1))
	admin, err := pgx.Connect(ctx, AdminDSN())
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, AdminDSN())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}
