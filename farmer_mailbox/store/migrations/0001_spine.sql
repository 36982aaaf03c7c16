-- 0001: the spine: regions, real-name users, liaison points, API tokens, the message record,
-- and received inbound messages.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY CHECK (length(code) = 12),
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent      TEXT REFERENCES regions(code)
) WITHOUT ROWID;
CREATE INDEX regions_parent ON regions(parent);

CREATE TABLE liaison_points (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE liaison_point_villages (
    point_id      INTEGER NOT NULL REFERENCES liaison_points(id),
    village_code  TEXT NOT NULL REFERENCES regions(code),
    PRIMARY KEY (point_id, village_code)
) WITHOUT ROWID;

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    phone             TEXT NOT NULL UNIQUE,
    id_cipher         BLOB NOT NULL,
    id_hash           TEXT NOT NULL UNIQUE,
    id_masked         TEXT NOT NULL,
    village_code      TEXT NOT NULL REFERENCES regions(code),
    role              TEXT NOT NULL CHECK (role IN ('farmer', 'liaison', 'officer', 'admin')),
    status            TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'opted_out', 'suspended')),
    registered_by     INTEGER REFERENCES users(id),
    liaison_point_id  INTEGER REFERENCES liaison_points(id),
    county_code       TEXT REFERENCES regions(code),
    flagged           INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CHECK (role != 'liaison' OR liaison_point_id IS NOT NULL),
    CHECK (role != 'officer' OR county_code IS NOT NULL)
);
CREATE INDEX users_village ON users(village_code);

CREATE TABLE user_interests (
    user_id  INTEGER NOT NULL REFERENCES users(id),
    product  TEXT NOT NULL,
    PRIMARY KEY (user_id, product)
) WITHOUT ROWID;
CREATE INDEX user_interests_product ON user_interests(product, user_id);

CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) WITHOUT ROWID;

-- The message record: append-only, each entry hashed with the previous entry's hash.
CREATE TABLE message_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    user_id      INTEGER,
    address      TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL DEFAULT '',
    gateway      TEXT NOT NULL DEFAULT '',
    external_id  TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX message_log_user ON message_log(user_id, id);
CREATE TRIGGER message_log_no_update BEFORE UPDATE ON message_log
BEGIN SELECT RAISE(ABORT, 'message_log is append-only'); END;
CREATE TRIGGER message_log_no_delete BEFORE DELETE ON message_log
BEGIN SELECT RAISE(ABORT, 'message_log is append-only'); END;

-- Inbound messages as received, deduplicated per gateway, processed after the webhook answered.
CREATE TABLE inbound (
    id           INTEGER PRIMARY KEY,
    gateway      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    sender       TEXT NOT NULL,
    recipient    TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL,
    event        TEXT NOT NULL DEFAULT '',
    received_at  TEXT NOT NULL,
    user_id      INTEGER REFERENCES users(id),
    log_id       INTEGER NOT NULL REFERENCES message_log(id),
    status       TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'done', 'failed')),
    error        TEXT NOT NULL DEFAULT '',
    UNIQUE (gateway, external_id)
);
CREATE INDEX inbound_pending ON inbound(status) WHERE status = 'received';
