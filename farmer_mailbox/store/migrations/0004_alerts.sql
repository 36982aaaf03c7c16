-- 0004: bureau alerts, the ledger of official warnings, forecast opt-ins, and the audience index.
--
-- alerts.status: draft (pest calendar proposal) -> scheduled (approved) | discarded;
-- held (over the bureau's monthly budget: waits for an admin) -> scheduled; scheduled ->
-- sending (fan-out begun) -> sent (every copy final); scheduled | held | sending -> cancelled;
-- scheduled -> expired (not sent before its expiry). Fan-out is resumable: `fanout_cursor` is
-- the highest user id done, `fanned_out_at` is set when every recipient has a row.

CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('weather', 'pest', 'market', 'notice')),
    severity       TEXT NOT NULL DEFAULT '' CHECK (severity IN ('', 'blue', 'yellow', 'orange', 'red')),
    urgent         INTEGER NOT NULL DEFAULT 0,
    template_key   TEXT NOT NULL,
    params         TEXT NOT NULL,
    regions        TEXT NOT NULL,
    crops          TEXT NOT NULL DEFAULT '[]',
    products       TEXT NOT NULL DEFAULT '[]',
    roles          TEXT NOT NULL,
    county_code    TEXT REFERENCES regions(code),
    status         TEXT NOT NULL CHECK (status IN
                   ('draft', 'held', 'scheduled', 'sending', 'sent', 'cancelled', 'discarded', 'expired')),
    send_at        TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    segments       INTEGER NOT NULL,
    price          REAL NOT NULL,
    recipients     INTEGER NOT NULL DEFAULT 0,
    cost_yuan      REAL NOT NULL DEFAULT 0,
    source         TEXT UNIQUE,
    supersedes     INTEGER REFERENCES alerts(id),
    fanout_cursor  INTEGER NOT NULL DEFAULT 0,
    fanned_out_at  TEXT,
    created_by     INTEGER REFERENCES users(id),
    confirmed_by   INTEGER REFERENCES users(id),
    note           TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    done_at        TEXT
);
CREATE INDEX alerts_due ON alerts(send_at) WHERE status IN ('scheduled', 'sending');
CREATE INDEX alerts_county ON alerts(county_code, send_at);
CREATE INDEX alerts_status ON alerts(status, id);

-- Every official warning seen, once: a warning id is processed the first time only.
CREATE TABLE official_warnings (
    source       TEXT NOT NULL,
    warning_id   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('alert', 'update', 'cancel')),
    alert_id     INTEGER REFERENCES alerts(id),
    regions      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    payload      TEXT NOT NULL,
    PRIMARY KEY (source, warning_id)
) WITHOUT ROWID;
CREATE INDEX official_warnings_alert ON official_warnings(alert_id);

-- Users who asked for the daily next-day forecast.
CREATE TABLE forecast_optin (
    user_id  INTEGER PRIMARY KEY REFERENCES users(id),
    since    TEXT NOT NULL
);

-- Audience counts by town (preview) read this index alone, without touching the users table.
CREATE INDEX users_audience ON users(village_code, role, status);
