ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;

CREATE TABLE sign_in_throttles (
    key TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    last_failure_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_throttles_last_failure_at ON sign_in_throttles (last_failure_at);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
