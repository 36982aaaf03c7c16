-- 0007: ID numbers out of stored texts, and an anchor for the message record's head.
--
-- Inbound texts are stored with ID-shaped numbers masked (privacy.redact_ids); the numbers a
-- message carried are kept here, sealed with the ID key, until the message is processed (so a
-- 注册 SMS still registers after a crash), then dropped.
ALTER TABLE inbound ADD COLUMN ids_sealed BLOB;

-- The record's last entry (id and hash), moved forward in the same transaction as every append:
-- `audit verify` compares the chain's end with it, so deleting the last entries is caught too.
CREATE TABLE record_head (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    id    INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO record_head (one, id, hash) VALUES (
    1,
    COALESCE((SELECT MAX(id) FROM message_log), 0),
    COALESCE((SELECT hash FROM message_log ORDER BY id DESC LIMIT 1),
             '0000000000000000000000000000000000000000000000000000000000000000')
);
CREATE TRIGGER record_head_no_delete BEFORE DELETE ON record_head
BEGIN SELECT RAISE(ABORT, 'record_head is kept'); END;
CREATE TRIGGER record_head_forward BEFORE UPDATE ON record_head WHEN NEW.id < OLD.id
BEGIN SELECT RAISE(ABORT, 'record_head only moves forward'); END;
