package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ancore/ancore/crdt"
)

// Community is a community the relay carries for an account.
type Community struct {
	ID          crdt.ID
	TopicSecret []byte
	AccountID   int64
	CreatedAt   time.Time // set by the store when the community is first put
}

// PutCommunity starts carrying a community, or updates the topic secret
// and account of one carried already.
func (s *Store) PutCommunity(ctx context.Context, c Community) error {
	if c.ID.IsZero() {
		return fmt.Errorf("put community: zero id")
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO communities (id, topic_secret, account_id) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET topic_secret = EXCLUDED.topic_secret, account_id = EXCLUDED.account_id`,
		c.ID[:], c.TopicSecret, c.AccountID)
	if err != nil {
		return fmt.Errorf("put community %s: %w", c.ID, err)
	}
	return nil
}

// Community returns a carried community, or ErrNotFound.
func (s *Store) Community(ctx context.Context, id crdt.ID) (Community, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, topic_secret, account_id, created_at FROM communities WHERE id = $1`, id[:])
	c, err := pgx.CollectExactlyOneRow(rows, scanCommunity)
	if errors.Is(err, pgx.ErrNoRows) {
		return Community{}, fmt.Errorf("community %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Community{}, fmt.Errorf("community %s: %w", id, err)
	}
	return c, nil
}

// Communities returns every carried community, oldest first.
func (s *Store) Communities(ctx context.Context) ([]Community, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, topic_secret, account_id, created_at FROM communities ORDER BY created_at, id`)
	cs, err := pgx.CollectRows(rows, scanCommunity)
	if err != nil {
		return nil, fmt.Errorf("communities: %w", err)
	}
	return cs, nil
}

// DeleteCommunity stops carrying a community and drops its ops; ErrNotFound
// if it was not carried.
func (s *Store) DeleteCommunity(ctx context.Context, id crdt.ID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM communities WHERE id = $1`, id[:])
	if err != nil {
		return fmt.Errorf("delete community %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete community %s: %w", id, ErrNotFound)
	}
	return nil
}

func scanCommunity(row pgx.CollectableRow) (Community, error) {
	var c Community
	var id []byte
	if err := row.Scan(&id, &c.TopicSecret, &c.AccountID, &c.CreatedAt); err != nil {
		return c, err
	}
	var err error
	c.ID, err = crdt.IDFromBytes(id)
	return c, err
}
