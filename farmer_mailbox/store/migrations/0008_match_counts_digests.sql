-- Issue 5 follow-up: honest match counts and digests that miss nothing.
-- postings.more_matches: the engine found more matches than matching.max_matches_stored, so the
-- farmer is shown "N+" (reply, WD).
ALTER TABLE postings ADD COLUMN more_matches INTEGER NOT NULL DEFAULT 0;

-- match_notices.digest_day: the local day of the digest that reported a notice folded by the caps
-- (NULL: not reported yet). Folded notices from before this migration count as reported.
ALTER TABLE match_notices ADD COLUMN digest_day TEXT;
UPDATE match_notices SET digest_day = day WHERE sent = 0;
CREATE INDEX match_notices_undigested ON match_notices(day, user_id) WHERE sent = 0 AND digest_day IS NULL;
CREATE INDEX match_notices_digests ON match_notices(digest_day, user_id) WHERE digest_day IS NOT NULL;
-- The daily cap counts the notices sent to a user on a day: a handful, however many were folded.
CREATE INDEX match_notices_sent ON match_notices(user_id, day) WHERE sent = 1;
