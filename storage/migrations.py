"""Numbered schema migrations; version N is ``MIGRATIONS[N - 1]``, kept in PRAGMA user_version.

Never edit a step that has shipped: add a new one. Times are UTC ISO-8601 text, which sorts.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: people, groups, needs with their private details kept apart, claims with history, audit.
    [
        """
        CREATE TABLE people (
            user_id       INTEGER PRIMARY KEY,
            display_name  TEXT NOT NULL,
            username      TEXT,
            language_code TEXT,
            language      TEXT CHECK (language IN ('zh', 'en')),
            team          TEXT,
            started_bot   INTEGER NOT NULL DEFAULT 0,
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE groups (
            chat_id   INTEGER PRIMARY KEY,
            title     TEXT NOT NULL,
            active    INTEGER NOT NULL DEFAULT 1,
            seen_at   TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE needs (
            id              INTEGER PRIMARY KEY,
            chat_id         INTEGER NOT NULL,
            card_message_id INTEGER,
            summary         TEXT NOT NULL,
            created_by      INTEGER NOT NULL,
            created_at      TEXT NOT NULL,
            closed_at       TEXT,
            closed_by       INTEGER
        )
        """,
        "CREATE INDEX needs_by_chat ON needs (chat_id)",
        """
        CREATE TABLE need_details (
            need_id  INTEGER PRIMARY KEY REFERENCES needs (id) ON DELETE CASCADE,
            name     TEXT,
            address  TEXT,
            phone    TEXT,
            health   TEXT,
            notes    TEXT
        )
        """,
        """
        CREATE TABLE claims (
            id             INTEGER PRIMARY KEY,
            need_id        INTEGER NOT NULL REFERENCES needs (id),
            volunteer_id   INTEGER NOT NULL REFERENCES people (user_id),
            team           TEXT,
            claimed_at     TEXT NOT NULL,
            assigned_by    INTEGER,
            released_at    TEXT,
            released_by    INTEGER,
            release_reason TEXT CHECK (release_reason IN ('released', 'freed', 'reassigned'))
        )
        """,
        # The database itself refuses a second active claim on one need.
        "CREATE UNIQUE INDEX claims_one_active ON claims (need_id) WHERE released_at IS NULL",
        "CREATE INDEX claims_active_by_volunteer ON claims (volunteer_id)"
        " WHERE released_at IS NULL",
        "CREATE INDEX claims_by_need ON claims (need_id, claimed_at)",
        """
        CREATE TABLE audit_log (
            id       INTEGER PRIMARY KEY,
            at       TEXT NOT NULL,
            actor_id INTEGER,
            action   TEXT NOT NULL,
            need_id  INTEGER,
            claim_id INTEGER,
            detail   TEXT
        )
        """,
        "CREATE INDEX audit_by_need ON audit_log (need_id)",
    ],
    # 2: @username look-ups (reassign) and keeping each username on one person.
    ["CREATE INDEX people_by_username ON people (lower(username))"],
    # 3: a version per need, bumped by the database on every change its card shows, and the
    # version the card last showed: so no writer can forget to keep a card current, and stale
    # cards are found after a restart. Existing cards are taken as current.
    [
        "ALTER TABLE needs ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE needs ADD COLUMN card_version INTEGER",
        "UPDATE needs SET card_version = version WHERE card_message_id IS NOT NULL",
        "CREATE INDEX needs_stale_cards ON needs (id)"
        " WHERE card_message_id IS NOT NULL AND card_version IS NOT version",
        """
        CREATE TRIGGER need_changed AFTER UPDATE OF chat_id, summary, closed_at ON needs
        BEGIN UPDATE needs SET version = version + 1 WHERE id = NEW.id; END
        """,
        """
        CREATE TRIGGER claim_made AFTER INSERT ON claims
        BEGIN UPDATE needs SET version = version + 1 WHERE id = NEW.need_id; END
        """,
        """
        CREATE TRIGGER claim_changed AFTER UPDATE ON claims
        BEGIN UPDATE needs SET version = version + 1 WHERE id IN (OLD.need_id, NEW.need_id); END
        """,
        """
        CREATE TRIGGER holder_renamed AFTER UPDATE OF display_name ON people
        WHEN OLD.display_name IS NOT NEW.display_name
        BEGIN
            UPDATE needs SET version = version + 1 WHERE id IN (
                SELECT need_id FROM claims WHERE volunteer_id = NEW.user_id AND released_at IS NULL
            );
        END
        """,
    ],
    # 4: a need being written in private chat, one per coordinator, so it survives a restart.
    # The private details typed so far stay here until the need is posted (they move to
    # need_details) or the draft is cancelled.
    [
        """
        CREATE TABLE drafts (
            user_id    INTEGER PRIMARY KEY,
            step       TEXT NOT NULL,
            summary    TEXT NOT NULL DEFAULT '',
            name       TEXT,
            address    TEXT,
            phone      TEXT,
            health     TEXT,
            notes      TEXT,
            updated_at TEXT NOT NULL
        )
        """
    ],
    # 5: visits logged by claimers, and reminders: every occurrence a row, the source of truth
    # (the scheduler only looks here), each sent at most once.
    [
        """
        CREATE TABLE visits (
            id            INTEGER PRIMARY KEY,
            need_id       INTEGER NOT NULL REFERENCES needs (id),
            claim_id      INTEGER NOT NULL REFERENCES claims (id),
            volunteer_id  INTEGER NOT NULL REFERENCES people (user_id),
            visited_at    TEXT NOT NULL,
            done          TEXT NOT NULL DEFAULT '[]',
            note          TEXT,
            photo_file_id TEXT,
            concern       INTEGER NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX visits_by_need ON visits (need_id, visited_at)",
        "CREATE INDEX visits_by_claim ON visits (claim_id, visited_at)",
        # The card shows the date of the last visit.
        """
        CREATE TRIGGER visit_logged AFTER INSERT ON visits
        BEGIN UPDATE needs SET version = version + 1 WHERE id = NEW.need_id; END
        """,
        """
        CREATE TABLE reminders (
            id         INTEGER PRIMARY KEY,
            kind       TEXT NOT NULL,
            key        TEXT NOT NULL UNIQUE,
            due_at     TEXT NOT NULL,
            chat_id    INTEGER,
            need_id    INTEGER REFERENCES needs (id),
            claim_id   INTEGER REFERENCES claims (id),
            parent_id  INTEGER REFERENCES reminders (id),
            payload    TEXT,
            state      TEXT NOT NULL DEFAULT 'pending' CHECK (
                state IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'missed')
            ),
            attempts   INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_by INTEGER,
            created_at TEXT NOT NULL,
            sent_at    TEXT
        )
        """,
        "CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending'",
        "CREATE INDEX reminders_by_claim ON reminders (claim_id, kind)",
        "CREATE INDEX reminders_by_parent ON reminders (parent_id)",
    ],
    # 6: a visit being logged in private chat, one form per claimer, so a restart in the
    # middle of it loses nothing ticked or typed. Finishing it turns it into a row of visits.
    [
        """
        CREATE TABLE visit_drafts (
            user_id       INTEGER PRIMARY KEY REFERENCES people (user_id),
            claim_id      INTEGER NOT NULL REFERENCES claims (id),
            need_id       INTEGER NOT NULL REFERENCES needs (id),
            step          TEXT NOT NULL CHECK (step IN ('done', 'note', 'photo', 'concern')),
            done          TEXT NOT NULL DEFAULT '[]',
            note          TEXT,
            photo_file_id TEXT,
            updated_at    TEXT NOT NULL
        )
        """
    ],
    # 7: a drive at Telegram's pace. Needs imported from a spreadsheet (``imports``) go out as
    # boards, one group message listing several needs; a board with no message yet is the
    # durable outbox the running bot posts from, whichever process wrote it. A need on a
    # board has the board's message as its card. ``fingerprint`` recognises a household
    # already posted in a group, so the same file imported twice posts nothing twice.
    # Each group may have one pinned progress board.
    [
        """
        CREATE TABLE imports (
            id                INTEGER PRIMARY KEY,
            chat_id           INTEGER NOT NULL,
            created_by        INTEGER,
            created_at        TEXT NOT NULL,
            source            TEXT NOT NULL,
            needs             INTEGER NOT NULL,
            skipped           INTEGER NOT NULL DEFAULT 0,
            report_chat_id    INTEGER,
            report_message_id INTEGER
        )
        """,
        """
        CREATE TABLE boards (
            id          INTEGER PRIMARY KEY,
            chat_id     INTEGER NOT NULL,
            message_id  INTEGER,
            import_id   INTEGER REFERENCES imports (id),
            created_at  TEXT NOT NULL,
            posted_at   TEXT
        )
        """,
        "CREATE INDEX boards_unposted ON boards (id) WHERE message_id IS NULL",
        "CREATE INDEX boards_by_import ON boards (import_id)",
        "ALTER TABLE needs ADD COLUMN board_id INTEGER REFERENCES boards (id)",
        "ALTER TABLE needs ADD COLUMN fingerprint TEXT",
        "ALTER TABLE needs ADD COLUMN category TEXT",
        "ALTER TABLE needs ADD COLUMN area TEXT",
        "CREATE INDEX needs_by_board ON needs (board_id) WHERE board_id IS NOT NULL",
        "CREATE INDEX needs_by_fingerprint ON needs (chat_id, fingerprint)"
        " WHERE fingerprint IS NOT NULL",
        "CREATE INDEX needs_by_card ON needs (chat_id, card_message_id)"
        " WHERE card_message_id IS NOT NULL",
        # A card shows the category and area too.
        """
        CREATE TRIGGER need_labels_changed AFTER UPDATE OF category, area ON needs
        WHEN OLD.category IS NOT NEW.category OR OLD.area IS NOT NEW.area
        BEGIN UPDATE needs SET version = version + 1 WHERE id = NEW.id; END
        """,
        """
        CREATE TABLE progress_boards (
            chat_id    INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL,
            posted_at  TEXT NOT NULL
        )
        """,
    ],
    # 8: a need's life after posting. A need is closed as done or cancelled (``closed_as``,
    # which its card shows, so it bumps the version as closed_at does), with the
    # coordinator's note; a claim still active then ends with the same word. Private details
    # of needs closed long enough ago are purged (``purged_at``). A draft may edit a posted
    # need (``need_id``) rather than write a new one.
    [
        "ALTER TABLE needs ADD COLUMN closed_as TEXT CHECK (closed_as IN ('done', 'cancelled'))",
        "ALTER TABLE needs ADD COLUMN close_note TEXT",
        "ALTER TABLE needs ADD COLUMN purged_at TEXT",
        "CREATE INDEX needs_to_purge ON needs (closed_at)"
        " WHERE closed_at IS NOT NULL AND purged_at IS NULL",
        """
        CREATE TRIGGER need_closed_as_changed AFTER UPDATE OF closed_as ON needs
        WHEN OLD.closed_as IS NOT NEW.closed_as
        BEGIN UPDATE needs SET version = version + 1 WHERE id = NEW.id; END
        """,
        "ALTER TABLE drafts ADD COLUMN need_id INTEGER REFERENCES needs (id)",
        # claims.release_reason's CHECK (step 1) lists the ways a claim ends; closing and
        # cancelling are two more. SQLite cannot alter a CHECK, and rebuilding claims would
        # drop and re-create the triggers and indexes other steps own; SQLite documents this
        # edit of the stored CREATE TABLE for constraints that old rows already satisfy. The
        # ALTER TABLE that follows makes every connection read the schema again.
        "PRAGMA writable_schema = ON",
        """
        UPDATE sqlite_schema SET sql = replace(
            sql,
            'CHECK (release_reason IN (''released'', ''freed'', ''reassigned''))',
            'CHECK (release_reason IN'
            || ' (''released'', ''freed'', ''reassigned'', ''closed'', ''cancelled''))'
        ) WHERE type = 'table' AND name = 'claims'
        """,
        "PRAGMA writable_schema = OFF",
        "ALTER TABLE visits ADD COLUMN purged INTEGER NOT NULL DEFAULT 0",
    ],
    # 9: a need may take several volunteers (``slots``: a cleaning day for three). The one
    # active claim per need becomes one active claim per person per need, and a trigger
    # refuses a claim beyond the need's places, so the database itself still holds the
    # limit. Changing the places changes what the card shows.
    [
        "ALTER TABLE needs ADD COLUMN slots INTEGER NOT NULL DEFAULT 1",
        "DROP INDEX claims_one_active",
        "CREATE UNIQUE INDEX claims_one_per_person ON claims (need_id, volunteer_id)"
        " WHERE released_at IS NULL",
        """
        CREATE TRIGGER claims_within_slots BEFORE INSERT ON claims
        WHEN (SELECT COUNT(*) FROM claims WHERE need_id = NEW.need_id AND released_at IS NULL)
             >= (SELECT slots FROM needs WHERE id = NEW.need_id)
        BEGIN SELECT RAISE(ABORT, 'every place of this need is taken'); END
        """,
        """
        CREATE TRIGGER need_slots_changed AFTER UPDATE OF slots ON needs
        WHEN OLD.slots IS NOT NEW.slots
        BEGIN UPDATE needs SET version = version + 1 WHERE id = NEW.id; END
        """,
    ],
    # 10: a spreadsheet sent to the bot in private chat, checked and waiting for the
    # coordinator to pick a group and confirm; kept here so a restart in between loses
    # nothing. The file itself is kept (it holds private details, like a draft does) and
    # read again at the confirmation; the row goes once it is imported or cancelled.
    # AUTOINCREMENT: the buttons name the row, and a newer file must never get an older
    # file's number.
    [
        """
        CREATE TABLE pending_imports (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id    INTEGER NOT NULL UNIQUE,
            filename   TEXT NOT NULL,
            data       BLOB NOT NULL,
            chat_id    INTEGER,
            created_at TEXT NOT NULL
        )
        """
    ],
    # 11: teams that coordinators define (``/team add``, or ``teams:`` in the config), which
    # volunteers pick from buttons, in place of the free text each typed into people.team.
    # Each distinct free-text team becomes a team (names trimmed; ASCII case ignored, as
    # ``name_key`` does for every team from now on; the spelling of the person recorded
    # first is kept, SQLite taking a bare column from the row MIN() picks), people
    # point at theirs with ``team_id``, and people.team goes, so no reader can take the old
    # text for the team. Claims keep ``team``, the name as recorded at claim time (the
    # history that exports and totals read), and gain ``team_id``, the team it counts for
    # (the per-team limit counts a team's open claims by it). A removed team keeps its row
    # (``removed_at``): its claims still name it, and adding it again brings it back.
    [
        """
        CREATE TABLE teams (
            id         INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            name_key   TEXT NOT NULL UNIQUE,
            in_config  INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            created_by INTEGER,
            removed_at TEXT,
            removed_by INTEGER
        )
        """,
        """
        INSERT INTO teams (name, name_key, created_at)
        SELECT trim(team), lower(trim(team)), MIN(created_at) FROM people
        WHERE trim(team) != '' GROUP BY lower(trim(team)) ORDER BY MIN(created_at)
        """,
        "ALTER TABLE people ADD COLUMN team_id INTEGER REFERENCES teams (id)",
        """
        UPDATE people SET team_id =
            (SELECT id FROM teams WHERE name_key = lower(trim(people.team)))
        WHERE trim(team) != ''
        """,
        "ALTER TABLE people DROP COLUMN team",
        "CREATE INDEX people_by_team ON people (team_id) WHERE team_id IS NOT NULL",
        "ALTER TABLE claims ADD COLUMN team_id INTEGER REFERENCES teams (id)",
        """
        UPDATE claims SET team_id =
            (SELECT id FROM teams WHERE name_key = lower(trim(claims.team)))
        WHERE trim(team) != ''
        """,
        "CREATE INDEX claims_active_by_team ON claims (team_id) WHERE released_at IS NULL",
    ],
]
