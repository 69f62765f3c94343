"""The schema's migrations, in order: MIGRATIONS[i] takes a micromove
database from version i to i + 1 (docs/schema.md). Only the writer
(store.Store) runs them. Standard library only."""

from __future__ import annotations

from . import rollups

# Migration 2's triggers: add a new minute row to its quarter, take an old one out.
_QUARTER_ADD = """\
        -- (not INSERT OR IGNORE: the outer statement's conflict policy would override it)
        INSERT INTO activity_quarter (quarter) SELECT NEW.minute / 15
            WHERE NOT EXISTS (SELECT 1 FROM activity_quarter WHERE quarter = NEW.minute / 15);
        UPDATE activity_quarter SET minutes = minutes + 1, keys = keys + NEW.keys,
            clicks = clicks + NEW.clicks, scrolls = scrolls + NEW.scrolls,
            moves = moves + NEW.moves, distance_px = distance_px + NEW.distance_px
        WHERE quarter = NEW.minute / 15;
"""
_QUARTER_SUB = """\
        UPDATE activity_quarter SET minutes = minutes - 1, keys = keys - OLD.keys,
            clicks = clicks - OLD.clicks, scrolls = scrolls - OLD.scrolls,
            moves = moves - OLD.moves, distance_px = distance_px - OLD.distance_px
        WHERE quarter = OLD.minute / 15;
"""

# Ordered migrations: MIGRATIONS[i] takes a database from version i to i + 1.
# PRAGMA user_version holds the version. Append, never edit a released step.
MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE activity (
        minute      INTEGER PRIMARY KEY,          -- UTC epoch seconds // 60
        keys        INTEGER NOT NULL DEFAULT 0,
        clicks      INTEGER NOT NULL DEFAULT 0,
        scrolls     INTEGER NOT NULL DEFAULT 0,
        moves       INTEGER NOT NULL DEFAULT 0,
        distance_px REAL    NOT NULL DEFAULT 0
    );
    CREATE TABLE stretches (
        kind  TEXT NOT NULL CHECK (kind IN ('typing', 'mouse', 'active')),
        start REAL NOT NULL,                      -- first event, UTC epoch seconds
        end   REAL NOT NULL,                      -- latest event, UTC epoch seconds
        PRIMARY KEY (kind, start)
    );
    CREATE INDEX stretches_by_start ON stretches (start, kind, end);
    CREATE INDEX stretches_by_end ON stretches (end);
    CREATE TABLE deliveries (
        id        INTEGER PRIMARY KEY,
        t         REAL NOT NULL,                  -- UTC epoch seconds
        reason    TEXT NOT NULL,                  -- pause | max_defer
        delivered INTEGER,                        -- NULL pending, 0 failed, 1 shown
        error     TEXT
    );
    CREATE INDEX deliveries_by_t ON deliveries (t);
    CREATE TABLE delivery_cues (
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        cue_id      TEXT NOT NULL,
        trigger     TEXT NOT NULL,                -- typing | mouse | active
        stretch_s   REAL NOT NULL,
        PRIMARY KEY (delivery_id, cue_id)
    ) WITHOUT ROWID;
    CREATE TABLE confirmations (
        id          INTEGER PRIMARY KEY,
        t           REAL NOT NULL,
        cue_id      TEXT NOT NULL,
        delivery_id INTEGER REFERENCES deliveries (id),
        kind        TEXT NOT NULL CHECK (kind IN ('done', 'likely'))
    );
    CREATE INDEX confirmations_by_delivery ON confirmations (delivery_id, cue_id);
    CREATE INDEX confirmations_by_t ON confirmations (t);
    CREATE TABLE checkins (
        id      INTEGER PRIMARY KEY,
        date    TEXT NOT NULL,                    -- local YYYY-MM-DD
        t       REAL NOT NULL,
        tight   INTEGER,
        noise   INTEGER,
        natural INTEGER,
        note    TEXT
    );
    CREATE TABLE state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: per-quarter-hour (UTC) sums of `activity`, kept by triggers, so that
    # `mmctl stats` reads a year in about 1/15 of the rows. Every time zone's
    # offset is a whole number of quarter hours, so a local day or hour is a
    # range of quarters (stats.py falls back to the minutes where not).
    f"""
    CREATE TABLE activity_quarter (
        quarter     INTEGER PRIMARY KEY,          -- UTC epoch seconds // 900
        minutes     INTEGER NOT NULL DEFAULT 0,   -- minutes with any input
        keys        INTEGER NOT NULL DEFAULT 0,
        clicks      INTEGER NOT NULL DEFAULT 0,
        scrolls     INTEGER NOT NULL DEFAULT 0,
        moves       INTEGER NOT NULL DEFAULT 0,
        distance_px REAL    NOT NULL DEFAULT 0
    );
    INSERT INTO activity_quarter (quarter, minutes, keys, clicks, scrolls, moves, distance_px)
        SELECT minute / 15, count(*), sum(keys), sum(clicks), sum(scrolls), sum(moves), sum(distance_px)
        FROM activity GROUP BY minute / 15;
    CREATE TRIGGER activity_quarter_insert AFTER INSERT ON activity BEGIN
{_QUARTER_ADD}    END;
    CREATE TRIGGER activity_quarter_update AFTER UPDATE ON activity BEGIN
{_QUARTER_SUB}{_QUARTER_ADD}    END;
    CREATE TRIGGER activity_quarter_delete AFTER DELETE ON activity BEGIN
{_QUARTER_SUB}    END;
    """,
    # 3: presence-only sources (a Wayland compositor's idle interface) see
    # input but cannot count it: such a minute is a row with `presence` = 1
    # and zero counts. The quarter sums need nothing new: the row counts as a
    # minute with input and adds no counts.
    """
    ALTER TABLE activity ADD COLUMN presence INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: answers on the notification itself: kind `dismissed` (closed by the
    # person) and a `source` column for every confirmation (cli, button,
    # inferred). SQLite cannot change a CHECK in place, so the table is copied:
    # every earlier `done` came from `mmctl done`, every `likely` was inferred.
    """
    CREATE TABLE confirmations_v3 (
        id          INTEGER PRIMARY KEY,
        t           REAL NOT NULL,
        cue_id      TEXT NOT NULL,
        delivery_id INTEGER REFERENCES deliveries (id),
        kind        TEXT NOT NULL CHECK (kind IN ('done', 'likely', 'dismissed')),
        source      TEXT NOT NULL CHECK (source IN ('cli', 'button', 'inferred'))
    );
    INSERT INTO confirmations_v3 (id, t, cue_id, delivery_id, kind, source)
        SELECT id, t, cue_id, delivery_id, kind,
               CASE kind WHEN 'likely' THEN 'inferred' ELSE 'cli' END
        FROM confirmations;
    DROP TABLE confirmations;
    ALTER TABLE confirmations_v3 RENAME TO confirmations;
    CREATE INDEX confirmations_by_delivery ON confirmations (delivery_id, cue_id);
    CREATE INDEX confirmations_by_t ON confirmations (t);
    """,
    # 5: per-quarter-hour rollups of stretches and cues (rollups.py), kept by
    # the writer's flush, filled here from the rows already there.
    rollups.MIGRATION,
    # 6: each day row's regions JSON in the form `mmctl stats --json` shows
    # it (regions by name, each with cues, done, likely, dismissed and
    # ignored), so that a report copies the stored text instead of
    # rebuilding it day by day.
    rollups.MIGRATION_6,
]
SCHEMA_VERSION = len(MIGRATIONS)
