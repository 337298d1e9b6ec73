-- +goose Up

-- The relay's own values, such as its libp2p key, which must outlive
-- restarts so that nodes find it at the same peer id.
CREATE TABLE settings (
    name   text PRIMARY KEY,
    value  bytea NOT NULL
);

-- +goose Down
DROP TABLE settings;
