-- 0001: the initial schema of the profile cache.
--
-- Never edit this file once released: add 0002_….sql instead. The runner applies each
-- file in its own BEGIN IMMEDIATE transaction and sets PRAGMA user_version with it.
-- Timestamps are INTEGER milliseconds since the Unix epoch, UTC.

-- Marks the file as a profile-cache database (0x50724361, "PrCa"): the store refuses to
-- add its tables to another application's SQLite file.
PRAGMA application_id = 1349665633;

-- The change feed as last seen: one row per login the server listed.
-- `stale` is 1 when the cache needs to (re)fetch the profile: no stored profile, or the
-- summary's last_modified is newer than what the stored profile reflects. The store keeps
-- it up to date whenever a summary or a profile is written, so sync and status reads do
-- not have to join 100,000 rows.
CREATE TABLE summaries (
    login         TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    sync_id       TEXT,
    status        TEXT,
    last_modified INTEGER,
    seen_at       INTEGER NOT NULL,
    stale         INTEGER NOT NULL DEFAULT 1 CHECK (stale IN (0, 1))
) WITHOUT ROWID;

-- list_summaries: ordered by last_modified then login, optionally filtered by status.
CREATE INDEX summaries_by_modified ON summaries (last_modified, login);
CREATE INDEX summaries_by_status ON summaries (status, last_modified, login);
-- stale_logins and the stale count.
CREATE INDEX summaries_stale ON summaries (last_modified, login) WHERE stale = 1;

-- The full profiles, each with the XML document exactly as the server sent it (`xml`,
-- LZ4-compressed, see src/store/document.rs;
-- last so scans of the other columns stay cheap) and the columns used to find it.
-- `id` is the rowid of the profile's row in profile_search.
CREATE TABLE profiles (
    id              INTEGER PRIMARY KEY,
    login           TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    sync_id         TEXT,
    uuid            TEXT    COLLATE NOCASE,
    status          TEXT,
    display_name    TEXT,
    server_modified INTEGER,
    fetched_at      INTEGER NOT NULL,
    xml             BLOB    NOT NULL
);

CREATE INDEX profiles_by_sync_id ON profiles (sync_id) WHERE sync_id IS NOT NULL;
CREATE INDEX profiles_by_uuid ON profiles (uuid) WHERE uuid IS NOT NULL;
-- counts(): active and inactive without reading the documents.
CREATE INDEX profiles_by_status ON profiles (status);

-- Key/value state of the sync engine (checkpoints and the like).
CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Full-text search over what an agent types: names, employee ID, login and e-mail
-- addresses. Contentless (the text is derived from the parsed profile and not stored
-- again); rowid = profiles.id. E-mail domains have their own column, which only a query
-- word containing '@' searches, so "ex" does not match every address at example.com.
-- Nothing sensitive (passports, IDs, dates of birth …) is indexed. Prefix indexes for 1
-- to 6 characters keep "a few letters" fast at 100,000 profiles (about 0.3 KB a profile;
-- a longer prefix merges the doclists of every term it starts, milliseconds at that size).
-- Contentless: rebuilding the index (e.g. for a new tokenizer) means re-deriving the text
-- from the stored XML, which Store::rebuild_search_index does in Rust (not SQL).
CREATE VIRTUAL TABLE profile_search USING fts5 (
    first_name,
    middle_name,
    last_name,
    preferred_name,
    employee_id,
    login,
    emails,
    domains,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5 6'
);
