-- 0009: binding-code requests per phone and per openid, for the limits on code SMS (issue 7).
-- Every "绑定 phone" that passes the per-openid checks is counted, whether or not the phone is a
-- registered user's, so the limits' answers say nothing about registration. One row per request
-- for the phone and one for the openid, each as a keyed hash only (IdVault.mac, a purpose per kind);
-- rows older than a day are deleted as new ones come in.

CREATE TABLE bind_code_requests (
    key_hash   TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX bind_code_requests_phone ON bind_code_requests(key_hash, at);
CREATE INDEX bind_code_requests_at ON bind_code_requests(at);
