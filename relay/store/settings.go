package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Setting returns the value stored under name, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return v, err
}

// InitSetting stores value under name unless a value is there already, and
// returns the value that is there after the call: concurrent starts agree.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return nil, err
	}
	return s.Setting(ctx, name)
}
