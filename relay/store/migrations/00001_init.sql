-- +goose Up

-- Accounts: an email, an argon2id password hash (PHC string), and the
-- user's identity backup, sealed by the client under a key the relay
-- never learns.
CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    user_key      bytea,          -- the Ed25519 user key the backup restores
    identity_box  bytea,          -- sealed identity seed; opaque here
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- a backup restores a known user key
    CHECK ((user_key IS NULL) = (identity_box IS NULL))
);

-- Sessions: opaque bearer tokens, stored as their SHA-256.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Invite codes: short codes that resolve to an invite link, with exact
-- use counting.
CREATE TABLE invite_codes (
    code        text PRIMARY KEY,
    community   bytea NOT NULL,
    link        text NOT NULL,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at  timestamptz,      -- NULL: never
    max_uses    integer NOT NULL DEFAULT 0 CHECK (max_uses >= 0),  -- 0: unlimited
    uses        integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invite_codes_account ON invite_codes (account_id);

-- Communities the relay carries: it holds their topic secret (to find and
-- join their gossip topics) but never an epoch key.
CREATE TABLE communities (
    id            bytea PRIMARY KEY,
    topic_secret  bytea NOT NULL,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Ops of the carried communities, as received: signed ciphertext (state
-- ops carry their clear StateBody, as on the wire). A deleted message's
-- post and edits keep only their skeleton (purged = true).
CREATE TABLE ops (
    id           bytea PRIMARY KEY,      -- the op's CID bytes
    community    bytea NOT NULL,         -- a carried community (see communities_drop_ops)
    log          bytea NOT NULL,         -- channel id, or community id for state ops
    hlc          bigint NOT NULL,        -- the op's HLC; verified ops' fit (see ops.go)
    kind         smallint NOT NULL,
    target       bytea,                  -- the op acted on, if any
    raw          bytea NOT NULL,
    purged       boolean NOT NULL DEFAULT false,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ops_log_hlc ON ops (log, hlc, id);
-- Edits (kind 2) and deletes (kind 3) by the message they name: what the
-- purge rule looks up. Queries must name these kinds as constants for
-- the planner to use it.
CREATE INDEX ops_target ON ops (target) WHERE kind IN (2, 3);

-- A community's ops go with it. This is what a foreign key with ON DELETE
-- CASCADE would do, but the key's check, a lookup of the community for
-- every inserted op, cost a third of the ingest rate (docs/benchmarks.md,
-- "Relay ingest"). PutOps, the only writer of ops, checks each batch's
-- communities once instead and holds them (FOR KEY SHARE) until it
-- commits, so no op lands after its community's delete.
-- +goose StatementBegin
CREATE FUNCTION communities_drop_ops() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ops WHERE community = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER communities_drop_ops AFTER DELETE ON communities
    FOR EACH ROW EXECUTE FUNCTION communities_drop_ops();

-- +goose Down
DROP TABLE ops;
DROP TABLE communities;
DROP FUNCTION communities_drop_ops;
DROP TABLE invite_codes;
DROP TABLE sessions;
DROP TABLE accounts;
