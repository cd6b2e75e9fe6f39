-- 0005: the logins a crawl pass has seen are marked in `summaries` instead of a table of
-- their own.
--
-- Never edit this file once released: add 0006_….sql instead.
--
-- `crawl_seen` was a second login-keyed B-tree: every crawled summary landed at a random
-- place of it, so each recorded page rewrote about one more page per summary. Now the
-- summary's own row (written anyway) carries the number of the pass that last saw it;
-- the pass in progress is meta `sync.crawl_pass`, and starting a pass over is a new
-- number rather than emptying a table.
ALTER TABLE summaries ADD COLUMN crawl_pass INTEGER;
DROP TABLE crawl_seen;
-- A crawl interrupted before this upgrade lost its seen set: it starts its pass over
-- (stale flags are kept, so nothing it found is forgotten).
DELETE FROM meta WHERE key = 'sync.crawl';
