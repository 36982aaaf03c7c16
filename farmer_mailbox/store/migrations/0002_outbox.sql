-- 0002: the durable outbox and delivery receipts.
-- priority: 0 = replies and urgent alerts (go even in quiet hours), 1 = match notices,
-- 2 = bulk alerts. status: queued -> sending -> sent -> delivered; errored loops back with
-- backoff; failed, expired and cancelled are final.

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    idem_key      TEXT NOT NULL UNIQUE,
    purpose       TEXT NOT NULL CHECK (purpose IN ('reply', 'match', 'alert')),
    priority      INTEGER NOT NULL,
    urgent        INTEGER NOT NULL DEFAULT 0,
    channel       TEXT NOT NULL DEFAULT 'sms',
    address       TEXT NOT NULL,
    user_id       INTEGER,
    template_key  TEXT NOT NULL,
    params        TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                  ('queued', 'sending', 'sent', 'delivered', 'errored', 'failed', 'expired', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    route_index   INTEGER NOT NULL DEFAULT 0,
    due_at        TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    lease_until   TEXT,
    gateway       TEXT,
    external_id   TEXT,
    segments      INTEGER,
    error         TEXT,
    sent_at       TEXT,
    done_at       TEXT,
    alert_id      INTEGER,
    ref           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(priority, due_at, id) WHERE status IN ('queued', 'errored');
CREATE INDEX outbox_expiry ON outbox(expires_at) WHERE status IN ('queued', 'errored');
CREATE INDEX outbox_sending ON outbox(lease_until) WHERE status = 'sending';
CREATE INDEX outbox_external ON outbox(gateway, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX outbox_recipient ON outbox(address, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_alert ON outbox(alert_id, status) WHERE alert_id IS NOT NULL;

-- Receipts that arrived before the send result was recorded wait here (Kannel's DLR can beat
-- our own bookkeeping by milliseconds).
CREATE TABLE early_receipts (
    gateway      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL
);
CREATE INDEX early_receipts_key ON early_receipts(gateway, external_id);
