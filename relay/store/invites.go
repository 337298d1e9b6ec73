package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InviteCode is a short code that resolves to an invite link.
type InviteCode struct {
	Code      string // normalized by the caller (relay/invitecode)
	Community []byte // the community the link invites to
	Link      string
	AccountID int64     // who made it
	Expires   time.Time // zero: never
	MaxUses   int       // 0: unlimited
	Uses      int
	Revoked   time.Time // zero: not revoked
	CreatedAt time.Time
}

const inviteColumns = "code, community, link, account_id, expires_at, max_uses, uses, revoked_at, created_at"

func scanInvite(row pgx.Row) (InviteCode, error) {
	var c InviteCode
	var expires, revoked *time.Time
	err := row.Scan(&c.Code, &c.Community, &c.Link, &c.AccountID, &expires, &c.MaxUses, &c.Uses, &revoked, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return InviteCode{}, ErrNotFound
	}
	if expires != nil {
		c.Expires = *expires
	}
	if revoked != nil {
		c.Revoked = *revoked
	}
	return c, err
}

// nullTime is t for a nullable column: NULL when zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateInviteCode stores a new code from c's Code, Community, Link,
// AccountID, Expires and MaxUses, and returns it as stored. ErrExists: the
// code is taken.
func (s *Store) CreateInviteCode(ctx context.Context, c InviteCode) (InviteCode, error) {
	got, err := scanInvite(s.pool.QueryRow(ctx, `
		INSERT INTO invite_codes (code, community, link, account_id, expires_at, max_uses)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+inviteColumns,
		c.Code, c.Community, c.Link, c.AccountID, nullTime(c.Expires), c.MaxUses))
	if isUniqueViolation(err) {
		return InviteCode{}, ErrExists
	}
	if err != nil {
		return InviteCode{}, fmt.Errorf("create invite code: %w", err)
	}
	return got, nil
}

// ResolveInviteCode counts one use of the code at now and returns it with
// that use counted. The count is exact under concurrency: one UPDATE both
// checks and increments, and PostgreSQL re-checks its condition on a row
// a concurrent resolve just changed, so a code with MaxUses n resolves
// exactly n times. When the code cannot be used the error says why:
// ErrNotFound, ErrRevoked, ErrExpired or ErrExhausted, in that order of
// precedence.
func (s *Store) ResolveInviteCode(ctx context.Context, code string, now time.Time) (InviteCode, error) {
	c, err := scanInvite(s.pool.QueryRow(ctx, `
		UPDATE invite_codes SET uses = uses + 1
		WHERE code = $1 AND revoked_at IS NULL
			AND (expires_at IS NULL OR expires_at > $2)
			AND (max_uses = 0 OR uses < max_uses)
		RETURNING `+inviteColumns, code, now))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return InviteCode{}, fmt.Errorf("resolve invite code: %w", err)
	}
	c, err = scanInvite(s.pool.QueryRow(ctx, "SELECT "+inviteColumns+" FROM invite_codes WHERE code = $1", code))
	switch {
	case errors.Is(err, ErrNotFound):
		return InviteCode{}, ErrNotFound
	case err != nil:
		return InviteCode{}, fmt.Errorf("resolve invite code: %w", err)
	case !c.Revoked.IsZero():
		return InviteCode{}, ErrRevoked
	case !c.Expires.IsZero() && !c.Expires.After(now):
		return InviteCode{}, ErrExpired
	default:
		return InviteCode{}, ErrExhausted
	}
}

// ListInviteCodes returns the account's codes that are not revoked, the
// newest first.
func (s *Store) ListInviteCodes(ctx context.Context, accountID int64) ([]InviteCode, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+inviteColumns+` FROM invite_codes
		WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, code`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list invite codes: %w", err)
	}
	defer rows.Close()
	codes := []InviteCode{}
	for rows.Next() {
		c, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("list invite codes: %w", err)
		}
		codes = append(codes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invite codes: %w", err)
	}
	return codes, nil
}

// RevokeInviteCode revokes the account's code at now; revoking it again
// changes nothing. ErrNotFound: the account has no such code.
func (s *Store) RevokeInviteCode(ctx context.Context, code string, accountID int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE invite_codes SET revoked_at = coalesce(revoked_at, $3)
		WHERE code = $1 AND account_id = $2`, code, accountID, now)
	if err != nil {
		return fmt.Errorf("revoke invite code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
