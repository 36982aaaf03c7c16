-- 0010: which county bureaus pay for an alert, and what share each pays; lift notices that reach
-- only those who got the warning; an index to find admins.
--
-- An alert reaching several counties (a red rainstorm warning for two, a city-wide notice) is
-- charged to each county in proportion to its recipients there, as counted for the preview.
-- A county's spending in a month is the sum over its alerts of share × alerts.cost_yuan, so the
-- share follows the cost as it moves from estimate to enqueued to accepted copies.
-- Alerts written before this migration were charged to their one county (county_code) or none.

CREATE TABLE alert_charges (
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    county_code  TEXT NOT NULL,
    recipients   INTEGER NOT NULL,
    share        REAL NOT NULL CHECK (share >= 0 AND share <= 1),
    PRIMARY KEY (alert_id, county_code)
) WITHOUT ROWID;
CREATE INDEX alert_charges_county ON alert_charges(county_code, alert_id);

INSERT INTO alert_charges (alert_id, county_code, recipients, share)
SELECT id, county_code, recipients, 1.0 FROM alerts WHERE county_code IS NOT NULL;

-- Admins are told when an alert is held for their confirmation; find them without a scan of users.
CREATE INDEX users_admins ON users(status) WHERE role = 'admin';

-- A warning's lift notice (解除) goes only to users who were sent a copy of the lifted alerts
-- (JSON list of alert ids; empty: no such condition).
ALTER TABLE alerts ADD COLUMN recipients_of TEXT NOT NULL DEFAULT '[]';
