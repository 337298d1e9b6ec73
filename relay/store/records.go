package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Record is one sealed record of an account: its ID is the client's
// choice, its content opaque to the relay.
type Record struct {
	ID        string
	Sealed    []byte
	UpdatedAt time.Time // set by the store
}

// PutRecord stores r for the account, replacing the record of that ID.
// A new ID is refused with ErrFull when the account already holds
// maxCount records; ErrNotFound: no such account. Puts of one account
// take its row's lock, so concurrent puts cannot overshoot the count.
func (s *Store) PutRecord(ctx context.Context, accountID int64, r Record, maxCount int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", accountID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "UPDATE account_records SET sealed = $3, updated_at = now() WHERE account_id = $1 AND id = $2",
			accountID, r.ID, r.Sealed)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		var count int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM account_records WHERE account_id = $1", accountID).Scan(&count); err != nil {
			return err
		}
		if count >= maxCount {
			return ErrFull
		}
		_, err = tx.Exec(ctx, "INSERT INTO account_records (account_id, id, sealed) VALUES ($1, $2, $3)", accountID, r.ID, r.Sealed)
		return err
	})
	if err != nil {
		return fmt.Errorf("put record %q of account %d: %w", r.ID, accountID, err)
	}
	return nil
}

// Records returns the account's records, by ID.
func (s *Store) Records(ctx context.Context, accountID int64) ([]Record, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id, sealed, updated_at FROM account_records WHERE account_id = $1 ORDER BY id", accountID)
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Record, error) {
		var r Record
		err := row.Scan(&r.ID, &r.Sealed, &r.UpdatedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("records of account %d: %w", accountID, err)
	}
	return rs, nil
}

// DeleteRecord deletes a record of the account; ErrNotFound if it has
// none of that ID.
func (s *Store) DeleteRecord(ctx context.Context, accountID int64, id string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM account_records WHERE account_id = $1 AND id = $2", accountID, id)
	if err != nil {
		return fmt.Errorf("delete record %q of account %d: %w", id, accountID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete record %q of account %d: %w", id, accountID, ErrNotFound)
	}
	return nil
}
