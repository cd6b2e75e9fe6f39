-- 0002: state of the sync engine that must survive a crash.
--
-- Never edit this file once released: add 0003_….sql instead.

-- The logins seen by the summary crawl in progress (cleared when a pass completes). With
-- the cursor in meta ('sync.crawl'), a crawl interrupted by a crash or a cancel resumes
-- at its next page and still de-duplicates what it read before.
CREATE TABLE crawl_seen (
    login TEXT NOT NULL PRIMARY KEY COLLATE NOCASE
) WITHOUT ROWID;

-- Profiles whose fetch failed for a reason retrying soon will not fix (unknown user,
-- malformed document): retried on later syncs with backoff, and reported.
-- `last_error` is an error kind (e.g. 'malformed', 'invalid-user'), never a value.
CREATE TABLE fetch_failures (
    login           TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    attempts        INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL
) WITHOUT ROWID;
