-- 0003: the loyalty outbox (updates queued on the device until SAP Concur confirms them),
-- its event log, and the itinerary notifications received.
--
-- Never edit this file once released: add 0004_….sql instead. The outbox is the one
-- thing in this database that cannot be fetched again: a later migration may add columns
-- or indexes, but must never drop, empty or rewrite its rows (a test checks every later
-- migration for that).

-- One row per queued loyalty membership update.
-- `program` is the pending slot's key, `A:LH` (vendor type and code): one pending row per
-- (login, program). `membership` is the LoyaltyMembership as queued (JSON, validated);
-- `base` the server's membership when it was queued (JSON; NULL: none), used to detect
-- conflicts; `base_known` 0 when the profile was not stored then. `theirs` holds the
-- server's value of a conflict. `last_error` is the server's description of a refusal, or
-- the kind of the last transient failure. Times are INTEGER ms since the epoch, UTC;
-- `server_sent_at` is the server's clock (Date header) when it accepted the update.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    login           TEXT    NOT NULL COLLATE NOCASE,
    program         TEXT    NOT NULL,
    membership      TEXT    NOT NULL,
    base            TEXT,
    base_known      INTEGER NOT NULL CHECK (base_known IN (0, 1)),
    state           TEXT    NOT NULL
                    CHECK (state IN ('pending', 'sending', 'sent', 'confirmed', 'failed', 'conflict')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    queued_at       INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    server_sent_at  INTEGER,
    last_error      TEXT,
    theirs          TEXT,
    seq             INTEGER NOT NULL
);

-- The pending slot: at most one unsent update per traveler and program.
CREATE UNIQUE INDEX outbox_pending_slot ON outbox (login, program) WHERE state = 'pending';
-- Per traveler (overlay, confirmation) and per state (flush, counts, lists).
CREATE INDEX outbox_by_login ON outbox (login, state);
CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at);

-- Every state change of an outbox row, numbered (`seq` only grows, also across restarts):
-- what the outbox listener is told, and what an app that missed events reads back.
-- `from_state` NULL: queued; `to_state` NULL: removed (discarded, replaced by
-- `replaced_by`, or dropped for the server's value). Old entries are pruned.
CREATE TABLE outbox_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id   INTEGER NOT NULL,
    login       TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    replaced_by INTEGER,
    at          INTEGER NOT NULL
);

-- Itinerary notifications received through postbacks; a repeat is ignored.
CREATE TABLE itinerary_events (
    id          INTEGER PRIMARY KEY,
    login       TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
    trip_id     TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    event_time  INTEGER NOT NULL DEFAULT 0,
    object_uri  TEXT,
    received_at INTEGER NOT NULL,
    UNIQUE (trip_id, event_type, event_time, login)
);
