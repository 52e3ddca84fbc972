DROP INDEX sessions_revoked_at;
DROP TABLE sign_in_throttles;
ALTER TABLE users DROP COLUMN disabled_at;
