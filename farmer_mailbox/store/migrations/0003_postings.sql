-- Postings (supply and demand), the matches found between them, the numbered references each
-- user is shown (LX n / HF n / Y n), contact requests, and per-day notice counts for the caps.

CREATE TABLE postings (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    side           TEXT NOT NULL CHECK (side IN ('sell', 'buy')),
    product        TEXT NOT NULL,
    category       TEXT NOT NULL,
    quantity       REAL,
    unit           TEXT,
    base_quantity  REAL,
    base_unit      TEXT,
    price          REAL,
    price_max      REAL,
    price_unit     TEXT,
    quality        TEXT NOT NULL DEFAULT '[]',
    region_code    TEXT NOT NULL,
    text           TEXT NOT NULL,
    inbound_id     INTEGER,
    status         TEXT NOT NULL
                   CHECK (status IN ('pending', 'open', 'cancelled', 'expired', 'hidden')),
    hold_reason    TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    reminded_at    TEXT,
    closed_at      TEXT,
    changed        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX postings_user ON postings(user_id, status);
CREATE INDEX postings_status_expiry ON postings(status, expires_at);
CREATE INDEX postings_product_time ON postings(product, created_at);
CREATE INDEX postings_changed ON postings(changed);

CREATE TABLE matches (
    id          INTEGER PRIMARY KEY,
    buy_id      INTEGER NOT NULL REFERENCES postings(id),
    sell_id     INTEGER NOT NULL REFERENCES postings(id),
    distance    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (buy_id, sell_id)
);
CREATE INDEX matches_sell ON matches(sell_id);

-- "LX 3": the number a user was shown for a match; numbers grow per user and are never reused.
CREATE TABLE match_refs (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    n           INTEGER NOT NULL,
    match_id    INTEGER NOT NULL REFERENCES matches(id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, n),
    UNIQUE (user_id, match_id)
);

-- One notice per (user, counterparty, product), ever: the same pair is never told twice.
CREATE TABLE match_notices (
    user_id        INTEGER NOT NULL REFERENCES users(id),
    other_user_id  INTEGER NOT NULL REFERENCES users(id),
    product        TEXT NOT NULL,
    match_id       INTEGER NOT NULL REFERENCES matches(id),
    day            TEXT NOT NULL,
    sent           INTEGER NOT NULL,
    PRIMARY KEY (user_id, other_user_id, product)
);
CREATE INDEX match_notices_day ON match_notices(day, user_id);

CREATE TABLE contact_requests (
    id            INTEGER PRIMARY KEY,
    match_id      INTEGER NOT NULL REFERENCES matches(id),
    requester_id  INTEGER NOT NULL REFERENCES users(id),
    owner_id      INTEGER NOT NULL REFERENCES users(id),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    created_at    TEXT NOT NULL,
    answered_at   TEXT,
    UNIQUE (match_id, requester_id)
);
CREATE INDEX contact_requests_owner ON contact_requests(owner_id, status);
