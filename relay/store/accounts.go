package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Account is a relay account. The store takes the email as given: callers
// normalize it (relay/account lower-cases it), so that the unique index
// sees one spelling.
type Account struct {
	ID           int64
	Email        string
	PasswordHash string // argon2id, PHC string format
	// UserKey and IdentityBox are the identity backup: the user key the
	// box restores and the box, sealed by the client under a key the
	// relay never learns. Both nil until the client uploads one.
	UserKey     []byte
	IdentityBox []byte
	CreatedAt   time.Time
}

const accountColumns = "id, email, password_hash, user_key, identity_box, created_at"

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Email, &a.PasswordHash, &a.UserKey, &a.IdentityBox, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	return a, err
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}

// CreateAccount adds an account; an identity backup (userKey and box) may
// come with it or later through SetIdentity. ErrExists: the email is taken.
func (s *Store) CreateAccount(ctx context.Context, email, passwordHash string, userKey, box []byte) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx,
		"INSERT INTO accounts (email, password_hash, user_key, identity_box) VALUES ($1, $2, $3, $4) RETURNING "+accountColumns,
		email, passwordHash, userKey, box))
	if isUniqueViolation(err) {
		return Account{}, ErrExists
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// AccountByEmail returns the account with that (normalized) email, or
// ErrNotFound.
func (s *Store) AccountByEmail(ctx context.Context, email string) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE email = $1", email))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, fmt.Errorf("account by email: %w", err)
	}
	return a, err
}

// AccountByID returns the account, or ErrNotFound.
func (s *Store) AccountByID(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE id = $1", id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, fmt.Errorf("account %d: %w", id, err)
	}
	return a, err
}

// SetIdentity stores (or replaces) the account's identity backup.
func (s *Store) SetIdentity(ctx context.Context, accountID int64, userKey, box []byte) error {
	tag, err := s.pool.Exec(ctx, "UPDATE accounts SET user_key = $2, identity_box = $3 WHERE id = $1", accountID, userKey, box)
	if err != nil {
		return fmt.Errorf("set identity of account %d: %w", accountID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateSession records a session: tokenHash is the SHA-256 of its bearer
// token, which the store never sees.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, accountID int64, expires time.Time) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
		tokenHash, accountID, expires)
	if isUniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionAccount returns the account of the session whose token hashes to
// tokenHash, if that session is neither expired at now nor revoked;
// otherwise ErrNotFound.
func (s *Store) SessionAccount(ctx context.Context, tokenHash []byte, now time.Time) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `
		SELECT a.id, a.email, a.password_hash, a.user_key, a.identity_box, a.created_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.revoked_at IS NULL`, tokenHash, now))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, fmt.Errorf("session: %w", err)
	}
	return a, err
}

// RevokeSession ends a session at now; revoking it again changes nothing.
// ErrNotFound: no such session.
func (s *Store) RevokeSession(ctx context.Context, tokenHash []byte, now time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE sessions SET revoked_at = coalesce(revoked_at, $2) WHERE token_hash = $1", tokenHash, now)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteEndedSessions removes sessions that expired or were revoked before
// now, which authenticate nobody any more; it returns how many.
func (s *Store) DeleteEndedSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $1", now)
	if err != nil {
		return 0, fmt.Errorf("delete ended sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
