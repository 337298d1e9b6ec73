-- +goose Up

-- Sealed records of an account's user (docs/protocol.md, "Device
-- restore"): the user's community memberships and profile, sealed by the
-- user's nodes under a key the relay never learns. One row per record id,
-- chosen by the nodes and opaque here, so that two devices adding
-- different communities do not overwrite each other.
CREATE TABLE account_records (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id          text NOT NULL,
    sealed      bytea NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id)
);

-- +goose Down
DROP TABLE account_records;
