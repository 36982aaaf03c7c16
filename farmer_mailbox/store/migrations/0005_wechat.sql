-- 0005: the WeChat Official Account channel (issue 7): which openid is which real-name user,
-- and the pending binding codes (a keyed hash only, never the code).
--
-- wechat_bindings: one openid per user and one user per openid. `subscribed` goes to 0 on the
-- unsubscribe event (nothing is pushed to WeChat any more; SMS continues) and back to 1 when the
-- same openid subscribes again. `last_inbound_at` is the user's latest interaction on WeChat:
-- the customer-service API only reaches users inside 48 hours of it.

CREATE TABLE wechat_bindings (
    openid           TEXT PRIMARY KEY,
    user_id          INTEGER NOT NULL UNIQUE REFERENCES users(id),
    subscribed       INTEGER NOT NULL DEFAULT 1 CHECK (subscribed IN (0, 1)),
    last_inbound_at  TEXT,
    bound_at         TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) WITHOUT ROWID;

-- One row per openid that asked for a code: the code's keyed hash (HMAC under a key derived from
-- the ID key, bound to openid and user), its SMS's outbox key (scrubbed once the code is spent),
-- when it expires, and wrong tries. `failures` counts across codes, so asking for a new code does
-- not reset it; reaching the limit sets `locked_until` and voids the code.
CREATE TABLE wechat_codes (
    openid        TEXT PRIMARY KEY,
    user_id       INTEGER REFERENCES users(id),
    code_hash     TEXT NOT NULL DEFAULT '',
    outbox_key    TEXT NOT NULL DEFAULT '',
    sent_at       TEXT,
    expires_at    TEXT,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT
) WITHOUT ROWID;

-- Urgent alerts go by WeChat too: a copy `alert:<id>:<user>:wechat` beside the SMS one, under the
-- same alert (cancelled, re-texted and waited for with it). Costs and progress count SMS copies
-- only, so the alert index gains the channel and still answers those counts alone.
DROP INDEX outbox_alert;
CREATE INDEX outbox_alert ON outbox(alert_id, status, channel) WHERE alert_id IS NOT NULL;
