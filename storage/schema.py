"""The SQLite schema: every table and index of the product is declared here and nowhere else.

Fixed tables are created by `migrate`. Each published form also gets answer tables whose columns
follow its fields (see `ensure_answer_tables`): one wide table per form for the fields outside
repeats and one per repeat, so aggregates and exports are plain SQL over typed rows rather than
key/value pivots.
"""
from __future__ import annotations

import re
import sqlite3

from vocabulary import SQL_LOCAL_SHIFT

SCHEMA_VERSION = 14

# score_rollup's measures (storage.scores.MEASURES), which step 13's rollup repeats
_MEASURES = (("submissions", "respondents", "overall_sum", "overall_sq", "irregular")
             + tuple(f"{c}_{part}" for c in ("procedure", "staff", "result")
                     for part in ("n", "sum", "sq", "answers", "low", "value_sum", "value_n")))
_COUNTED_OLD = "old.current = 1 AND old.review_state <> 'rejected' AND old.deleted_at IS NULL"
_COUNTED_NEW = _COUNTED_OLD.replace("old.", "new.")
# YYYYMM of a start time in Vietnam, by the expression scoring and step 2's trigger use, and
# the local quarter YYYYQ of such a month (0 for the unreadable month 0)
def local_month(alias: str) -> str:
    """SQL for the month (YYYYMM, 0 when unreadable) of `alias`.started_at in Vietnam's time: the
    one expression the score triggers and the scoring both use."""
    return f"coalesce(CAST(strftime('%Y%m', {alias}.started_at, '{SQL_LOCAL_SHIFT}') AS INTEGER), 0)"

_QUARTER = "({0} / 100 * 10 + ({0} % 100 + 2) / 3)"

_CHOICE_ROLLUP = f"""
    -- breakdowns from rollups (issue 19): the procedure field, the select_one answers and
    -- whether a submission holds a dissatisfied answer, summed like score_rollup, so that the
    -- dashboard's breakdowns and counts read a few thousand rows, not every submission

    -- The breakdown dimensions by number: "procedure_field", "answer:<path>" (the dimension
    -- names of storage/scores.py) or "dissatisfied" (value "1": an answer 1 or 2 on a criterion).
    CREATE TABLE choice_dims (
        id INTEGER PRIMARY KEY,
        dim TEXT NOT NULL UNIQUE
    );

    -- A submission's non-empty value of each dimension recorded for its version, written in the
    -- transaction that scores it (storage/choices.py). An empty answer has no row: its group is
    -- what the dimension's rows leave of score_rollup.
    CREATE TABLE submission_choices (
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        dim_id INTEGER NOT NULL REFERENCES choice_dims(id),
        value TEXT NOT NULL,
        PRIMARY KEY (submission_id, dim_id)
    ) WITHOUT ROWID;

    -- How far submission_choices is written (no row: nothing yet, so that a new database stays
    -- empty): a database scored before this step catches up with the scores' watermark, and
    -- until then its breakdowns are read from the submissions.
    CREATE TABLE choice_progress (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        through_id INTEGER NOT NULL
    );

    -- score_rollup's measures by dimension and value, over the submissions that count, by local
    -- quarter and without the channel: a million submissions fill every unit x month x channel
    -- of score_rollup, and that again for each value was too many rows to sum for one page.
    -- A channel filter, a breakdown by month and the days around whole quarters are read from
    -- the submissions instead.
    CREATE TABLE choice_rollup (
        dim_id INTEGER NOT NULL,
        form_version_id INTEGER NOT NULL,
        local_quarter INTEGER NOT NULL,
        unit_code TEXT NOT NULL,
        value TEXT NOT NULL,
        {", ".join(f"{m} INTEGER NOT NULL" for m in _MEASURES)},
        PRIMARY KEY (dim_id, form_version_id, local_quarter, unit_code, value)
    ) WITHOUT ROWID;

    -- Inserting (sign, submission, its rollup key) here adds sign x its measures to the rollup
    -- row of each of its recorded values, as score_rollup_changes does for score_rollup.
    CREATE VIEW choice_rollup_changes AS
    SELECT 0 AS sign, 0 AS submission_id, 0 AS form_version_id, '' AS unit_code, 0 AS local_month
    WHERE 0;

    CREATE TRIGGER choice_rollup_change INSTEAD OF INSERT ON choice_rollup_changes
    BEGIN
        INSERT INTO choice_rollup (dim_id, form_version_id, local_quarter, unit_code, value,
            {", ".join(_MEASURES)})
        SELECT c.dim_id, new.form_version_id, {_QUARTER.format("new.local_month")},
            coalesce(new.unit_code, ''), c.value, {", ".join(f"new.sign * m.{m}" for m in _MEASURES)}
        FROM submission_choices c JOIN score_measures m ON m.submission_id = c.submission_id
        WHERE c.submission_id = new.submission_id
        ON CONFLICT (dim_id, form_version_id, local_quarter, unit_code, value) DO UPDATE SET
            {", ".join(f"{m} = {m} + excluded.{m}" for m in _MEASURES)};
    END;

    -- As step 2's submissions_rescore: out with the old key, in with the new. The months are
    -- computed from the start times because that trigger may already have moved the scores'.
    CREATE TRIGGER submissions_rechoose AFTER UPDATE OF current, review_state, deleted_at,
        unit_code, started_at ON submissions
    BEGIN
        INSERT INTO choice_rollup_changes
        SELECT -1, old.id, old.form_version_id, old.unit_code, {local_month("old")}
        WHERE {_COUNTED_OLD};
        INSERT INTO choice_rollup_changes
        SELECT 1, new.id, new.form_version_id, new.unit_code, {local_month("new")}
        WHERE {_COUNTED_NEW};
    END;

    -- A submission's scores go (step 2's submissions_unscore) while its row is still there:
    -- its values leave the rollup with them.
    CREATE TRIGGER scores_unchoose BEFORE DELETE ON submission_scores
    BEGIN
        INSERT INTO choice_rollup_changes
        SELECT -1, s.id, s.form_version_id, s.unit_code, old.local_month
        FROM submissions s
        WHERE s.id = old.submission_id AND s.current = 1 AND s.review_state <> 'rejected'
            AND s.deleted_at IS NULL;
        DELETE FROM submission_choices WHERE submission_id = old.submission_id;
    END;
    """

# forms.conventions.dossier_key in SQL (built-in functions only, so that an index can hold it):
# the value without whitespace and invisible characters, ASCII letters upper-cased. Frozen: step
# 8's index is built on exactly this text, and a query uses the index only when it repeats it.
# tests/test_identifier_doors.py checks it against forms.conventions.DOSSIER_IGNORED.
# (At most 24 characters: SQLite's parser takes no deeper nesting; others make a code invalid.)
_DOSSIER_IGNORED_CODES = (9, 10, 13, 32, 160, 173, *range(8203, 8208), *range(8234, 8240), 8288,
                          *range(8294, 8298), 12288, 65279)
DOSSIER_KEY_SQL = ("upper(" + "replace(" * len(_DOSSIER_IGNORED_CODES) + "value"
                   + "".join(f", char({code}), '')" for code in _DOSSIER_IGNORED_CODES) + ")")
# Bumping SCHEMA_VERSION means adding the step that brings version N-1 to N here; steps only add.
_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE units (
        code TEXT PRIMARY KEY,
        parent_code TEXT REFERENCES units(code),
        level TEXT NOT NULL CHECK (level IN ('tinh', 'huyen', 'xa')),
        name_vi TEXT NOT NULL,
        name_en TEXT,
        imported_at TEXT NOT NULL
    );
    CREATE INDEX units_parent ON units(parent_code);

    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'designer', 'reporter', 'collector', 'viewer')),
        unit_code TEXT REFERENCES units(code),
        password_hash TEXT,
        token_sha256 TEXT UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );

    CREATE TABLE forms (
        form_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
        unit_code TEXT REFERENCES units(code),
        created_at TEXT NOT NULL
    );

    CREATE TABLE form_versions (
        id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL REFERENCES forms(form_id),
        version TEXT NOT NULL,
        title TEXT NOT NULL,
        xlsform BLOB,
        xform BLOB NOT NULL,
        xform_md5 TEXT NOT NULL,
        fields_json TEXT NOT NULL,
        conventions_json TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT,
        UNIQUE (form_id, version)
    );

    -- Files published with a version (pyxform's itemsets.csv, images); units.csv is not stored
    -- here because it is made from the unit tree whenever that changes.
    CREATE TABLE form_media (
        form_version_id INTEGER NOT NULL REFERENCES form_versions(id),
        filename TEXT NOT NULL,
        content BLOB NOT NULL,
        md5 TEXT NOT NULL,
        PRIMARY KEY (form_version_id, filename)
    );

    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL UNIQUE,
        form_version_id INTEGER NOT NULL REFERENCES form_versions(id),
        form_id TEXT NOT NULL,
        version TEXT NOT NULL,
        xml_sha256 TEXT NOT NULL,
        received_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        submitter_id INTEGER REFERENCES users(id),
        device_id TEXT,
        channel TEXT NOT NULL,
        unit_code TEXT,
        review_state TEXT NOT NULL DEFAULT 'received'
            CHECK (review_state IN ('received', 'approved', 'hasIssues', 'rejected')),
        encrypted INTEGER NOT NULL DEFAULT 0,
        attachments_expected INTEGER NOT NULL DEFAULT 0,
        -- edit chain: root_id is the first submission of the chain, deprecated_id the
        -- instanceID this one replaces, and current is 0 once a newer edit exists
        root_id INTEGER NOT NULL,
        deprecated_id TEXT,
        current INTEGER NOT NULL DEFAULT 1,
        deleted_at TEXT
    );
    CREATE INDEX submissions_form ON submissions(form_id, current, started_at);
    CREATE INDEX submissions_root ON submissions(root_id);

    -- The raw XML sits apart so that scans over submissions never page through it.
    CREATE TABLE submission_xml (
        submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),
        xml BLOB NOT NULL
    );

    -- Identifier answers (names, phone numbers, dossier codes) are kept apart from the answer
    -- tables so that nothing reading answers can leak them by accident.
    CREATE TABLE identifiers (
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        path TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (submission_id, path)
    );

    -- Attachment bytes are content-addressed files under DATA_DIR/blobs; this is the index.
    CREATE TABLE attachments (
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT,
        received_at TEXT NOT NULL,
        PRIMARY KEY (submission_id, name)
    );
    CREATE INDEX attachments_sha ON attachments(sha256);

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        target TEXT,
        details_json TEXT
    );
    """,
    2: f"""
    -- Derived from the stored answers for the satisfaction indices (aggregate/, storage/scores.py).
    -- One row per submission, computed once under the rules of its own form version, for each
    -- criterion: valid = answers in the version's scale; satisfied = those in its satisfied set;
    -- score = satisfied/valid in units of 1/27720 (27720 = lcm(1..12), so the sums are exact
    -- integers; NULL without a valid answer, and NULL when valid does not divide 27720, where the
    -- engine adds satisfied/valid exactly instead); low = answers 1 or 2; value_sum, value_n =
    -- sum and count of the answers of versions whose scale is 1..5 (the mean score).
    CREATE TABLE submission_scores (
        submission_id INTEGER PRIMARY KEY REFERENCES submissions(id) ON DELETE CASCADE,
        local_month INTEGER NOT NULL,   -- YYYYMM of started_at in Asia/Ho_Chi_Minh; 0 if unreadable
        procedure_field TEXT,
        respondent INTEGER NOT NULL,    -- 1 when some criterion has a valid answer
        overall_score INTEGER,          -- mean of the defined criterion scores, in units of 1/166320
        irregular INTEGER NOT NULL,     -- 1 when some criterion has valid answers but a NULL score
        procedure_valid INTEGER NOT NULL, procedure_satisfied INTEGER NOT NULL, procedure_score INTEGER,
        procedure_low INTEGER NOT NULL, procedure_value_sum INTEGER NOT NULL, procedure_value_n INTEGER NOT NULL,
        staff_valid INTEGER NOT NULL, staff_satisfied INTEGER NOT NULL, staff_score INTEGER,
        staff_low INTEGER NOT NULL, staff_value_sum INTEGER NOT NULL, staff_value_n INTEGER NOT NULL,
        result_valid INTEGER NOT NULL, result_satisfied INTEGER NOT NULL, result_score INTEGER,
        result_low INTEGER NOT NULL, result_value_sum INTEGER NOT NULL, result_value_n INTEGER NOT NULL
    );

    -- The additive measures of one submission: every number the indices need is a sum of these
    -- over a set of submissions, so groups can be merged and the rollup below kept incrementally.
    CREATE VIEW score_measures AS
    SELECT submission_id, local_month, procedure_field,
        1 AS submissions, respondent AS respondents, coalesce(overall_score, 0) AS overall_sum,
        coalesce(overall_score * overall_score, 0) AS overall_sq, irregular,
        procedure_valid > 0 AS procedure_n, coalesce(procedure_score, 0) AS procedure_sum,
        coalesce(procedure_score * procedure_score, 0) AS procedure_sq, procedure_valid AS procedure_answers,
        procedure_low, procedure_value_sum, procedure_value_n,
        staff_valid > 0 AS staff_n, coalesce(staff_score, 0) AS staff_sum,
        coalesce(staff_score * staff_score, 0) AS staff_sq, staff_valid AS staff_answers,
        staff_low, staff_value_sum, staff_value_n,
        result_valid > 0 AS result_n, coalesce(result_score, 0) AS result_sum,
        coalesce(result_score * result_score, 0) AS result_sq, result_valid AS result_answers,
        result_low, result_value_sum, result_value_n
    FROM submission_scores;

    -- The measures summed over the submissions that count (current, not rejected, not deleted)
    -- by form version, unit ('' = none), local month and channel, so that the standard
    -- breakdowns read a few thousand rows instead of every submission. Scoring adds to it; the
    -- triggers below take a submission out and put it back when what decides that changes.
    CREATE TABLE score_rollup (
        form_version_id INTEGER NOT NULL,
        unit_code TEXT NOT NULL,
        local_month INTEGER NOT NULL,
        channel TEXT NOT NULL,
        submissions INTEGER NOT NULL, respondents INTEGER NOT NULL, overall_sum INTEGER NOT NULL,
        overall_sq INTEGER NOT NULL, irregular INTEGER NOT NULL,
        procedure_n INTEGER NOT NULL, procedure_sum INTEGER NOT NULL, procedure_sq INTEGER NOT NULL,
        procedure_answers INTEGER NOT NULL, procedure_low INTEGER NOT NULL,
        procedure_value_sum INTEGER NOT NULL, procedure_value_n INTEGER NOT NULL,
        staff_n INTEGER NOT NULL, staff_sum INTEGER NOT NULL, staff_sq INTEGER NOT NULL,
        staff_answers INTEGER NOT NULL, staff_low INTEGER NOT NULL,
        staff_value_sum INTEGER NOT NULL, staff_value_n INTEGER NOT NULL,
        result_n INTEGER NOT NULL, result_sum INTEGER NOT NULL, result_sq INTEGER NOT NULL,
        result_answers INTEGER NOT NULL, result_low INTEGER NOT NULL,
        result_value_sum INTEGER NOT NULL, result_value_n INTEGER NOT NULL,
        PRIMARY KEY (form_version_id, unit_code, local_month, channel)
    ) WITHOUT ROWID;

    -- Inserting (sign, submission) here adds sign x that submission's measures to the rollup:
    -- the one place the rollup is changed from inside the database.
    CREATE VIEW score_rollup_changes AS
    SELECT 0 AS sign, 0 AS submission_id, 0 AS form_version_id, '' AS unit_code, '' AS channel
    WHERE 0;

    CREATE TRIGGER score_rollup_change INSTEAD OF INSERT ON score_rollup_changes
    BEGIN
        INSERT INTO score_rollup (form_version_id, unit_code, local_month, channel,
            submissions, respondents, overall_sum, overall_sq, irregular,
            procedure_n, procedure_sum, procedure_sq, procedure_answers, procedure_low, procedure_value_sum, procedure_value_n,
            staff_n, staff_sum, staff_sq, staff_answers, staff_low, staff_value_sum, staff_value_n,
            result_n, result_sum, result_sq, result_answers, result_low, result_value_sum, result_value_n)
        SELECT new.form_version_id, coalesce(new.unit_code, ''), m.local_month, new.channel,
            new.sign * m.submissions, new.sign * m.respondents, new.sign * m.overall_sum,
            new.sign * m.overall_sq, new.sign * m.irregular,
            new.sign * m.procedure_n, new.sign * m.procedure_sum, new.sign * m.procedure_sq,
            new.sign * m.procedure_answers, new.sign * m.procedure_low,
            new.sign * m.procedure_value_sum, new.sign * m.procedure_value_n,
            new.sign * m.staff_n, new.sign * m.staff_sum, new.sign * m.staff_sq,
            new.sign * m.staff_answers, new.sign * m.staff_low,
            new.sign * m.staff_value_sum, new.sign * m.staff_value_n,
            new.sign * m.result_n, new.sign * m.result_sum, new.sign * m.result_sq,
            new.sign * m.result_answers, new.sign * m.result_low,
            new.sign * m.result_value_sum, new.sign * m.result_value_n
        FROM score_measures m
        WHERE m.submission_id = new.submission_id
        ON CONFLICT (form_version_id, unit_code, local_month, channel) DO UPDATE SET
            submissions = submissions + excluded.submissions,
            respondents = respondents + excluded.respondents,
            overall_sum = overall_sum + excluded.overall_sum,
            overall_sq = overall_sq + excluded.overall_sq,
            irregular = irregular + excluded.irregular,
            procedure_n = procedure_n + excluded.procedure_n,
            procedure_sum = procedure_sum + excluded.procedure_sum,
            procedure_sq = procedure_sq + excluded.procedure_sq,
            procedure_answers = procedure_answers + excluded.procedure_answers,
            procedure_low = procedure_low + excluded.procedure_low,
            procedure_value_sum = procedure_value_sum + excluded.procedure_value_sum,
            procedure_value_n = procedure_value_n + excluded.procedure_value_n,
            staff_n = staff_n + excluded.staff_n,
            staff_sum = staff_sum + excluded.staff_sum,
            staff_sq = staff_sq + excluded.staff_sq,
            staff_answers = staff_answers + excluded.staff_answers,
            staff_low = staff_low + excluded.staff_low,
            staff_value_sum = staff_value_sum + excluded.staff_value_sum,
            staff_value_n = staff_value_n + excluded.staff_value_n,
            result_n = result_n + excluded.result_n,
            result_sum = result_sum + excluded.result_sum,
            result_sq = result_sq + excluded.result_sq,
            result_answers = result_answers + excluded.result_answers,
            result_low = result_low + excluded.result_low,
            result_value_sum = result_value_sum + excluded.result_value_sum,
            result_value_n = result_value_n + excluded.result_value_n;
    END;

    -- Whatever code edits, rejects, deletes or corrects a submission, the rollup follows in the
    -- same transaction; a submission not scored yet has no measures, so nothing moves.
    CREATE TRIGGER submissions_rescore AFTER UPDATE OF current, review_state, deleted_at,
        unit_code, channel, started_at ON submissions
    BEGIN
        INSERT INTO score_rollup_changes
        SELECT -1, old.id, old.form_version_id, old.unit_code, old.channel
        WHERE old.current = 1 AND old.review_state <> 'rejected' AND old.deleted_at IS NULL;
        UPDATE submission_scores
        SET local_month = {local_month("new")}
        WHERE submission_id = new.id AND new.started_at IS NOT old.started_at;
        INSERT INTO score_rollup_changes
        SELECT 1, new.id, new.form_version_id, new.unit_code, new.channel
        WHERE new.current = 1 AND new.review_state <> 'rejected' AND new.deleted_at IS NULL;
    END;

    CREATE TRIGGER submissions_unscore BEFORE DELETE ON submissions
    BEGIN
        INSERT INTO score_rollup_changes
        SELECT -1, old.id, old.form_version_id, old.unit_code, old.channel
        WHERE old.current = 1 AND old.review_state <> 'rejected' AND old.deleted_at IS NULL;
        DELETE FROM submission_scores WHERE submission_id = old.id;
    END;
    """,
    3: """
    -- Failed password checks, for the login limit; in the database so that every server
    -- process sees the same count.
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        name TEXT NOT NULL,
        ip TEXT
    );
    CREATE INDEX login_failures_name ON login_failures(name, at);
    CREATE INDEX login_failures_ip ON login_failures(ip, at);

    -- Every review decision; submissions.review_state holds the latest one.
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        state TEXT NOT NULL CHECK (state IN ('received', 'approved', 'hasIssues', 'rejected')),
        note TEXT,
        actor TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX reviews_submission ON reviews(submission_id);

    -- An uploaded form between its preview and its publication, so that what is published is
    -- exactly what was previewed, never a second upload.
    CREATE TABLE staged_forms (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        filename TEXT NOT NULL,
        content BLOB NOT NULL,
        unit_code TEXT REFERENCES units(code),
        summary_json TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        UNIQUE (sha256, uploaded_by)
    );

    -- The submissions table pages by id within a unit scope.
    CREATE INDEX submissions_unit ON submissions(unit_code, id);
    """,
    # Steps 4-6 are reserved while their features are being built side by side; each is filled
    # by one area only, so no two changes ever write the same step.
    4: """
    -- dashboard: dissatisfied follow-up and published results (web app)

    -- Follow-up of a dissatisfied submission by its unit: every change kept, the latest is the
    -- status. Keyed by the edit chain's root, so an edit of the submission keeps its status.
    CREATE TABLE followups (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES submissions(id),
        status TEXT NOT NULL CHECK (status IN ('open', 'handled')),
        note TEXT,
        actor TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX followups_root ON followups(root_id, id);

    -- Results a reporter chose to publish: the figures are a snapshot taken at publication, so
    -- late submissions never change a published number; republishing takes a new snapshot.
    -- unit_code NULL = the whole province; level NULL = the unit as one figure, otherwise each
    -- unit of that level inside it.
    CREATE TABLE publications (
        id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL REFERENCES forms(form_id),
        period TEXT NOT NULL,
        unit_code TEXT REFERENCES units(code),
        level TEXT CHECK (level IN ('tinh', 'huyen', 'xa')),
        min_n INTEGER NOT NULL,
        snapshot_json TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT,
        withdrawn_at TEXT,
        withdrawn_by TEXT
    );
    -- at most one live publication per form, period and target
    CREATE UNIQUE INDEX publications_live ON publications(form_id, period, coalesce(unit_code, ''),
        coalesce(level, '')) WHERE withdrawn_at IS NULL;
    """,
    5: """
    -- citizens' channels: public links, kiosks, paper sheets (server/channels, storage/channels.py)

    -- A tablet at a centre that citizens answer on without an account: the device holds a
    -- token (only its SHA-256 is kept) and answers land with channel 'kiosk' for its unit.
    CREATE TABLE kiosks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        unit_code TEXT NOT NULL REFERENCES units(code),
        form_id TEXT NOT NULL REFERENCES forms(form_id),
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        created_by TEXT,
        revoked_at TEXT,
        last_seen_at TEXT
    );

    -- Requests to the anonymous receiving endpoint per fixed window, by client address and by
    -- link; in the database so that every server process counts the same requests.
    CREATE TABLE public_rate_counts (
        bucket TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        hits INTEGER NOT NULL,
        PRIMARY KEY (bucket, window_start)
    ) WITHOUT ROWID;
    CREATE INDEX public_rate_counts_window ON public_rate_counts(window_start);

    -- One print run of paper questionnaires: sheets first_sheet .. first_sheet+sheet_count-1
    -- of the form, numbered per form so a sheet number names one sheet whatever its version.
    CREATE TABLE paper_prints (
        id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL REFERENCES forms(form_id),
        version TEXT NOT NULL,
        unit_code TEXT REFERENCES units(code),
        first_sheet INTEGER NOT NULL,
        sheet_count INTEGER NOT NULL,
        printed_at TEXT NOT NULL,
        printed_by TEXT
    );
    CREATE INDEX paper_prints_form ON paper_prints(form_id, first_sheet);

    -- The entry of a returned sheet: the instanceID of the submission it became. Written before
    -- the submission is stored, so a claim whose instanceID never got stored (a crash between
    -- the two) is simply taken over by the next entry of that sheet.
    CREATE TABLE paper_sheets (
        form_id TEXT NOT NULL,
        sheet_no INTEGER NOT NULL,
        instance_id TEXT NOT NULL,
        entered_by TEXT,
        entered_at TEXT NOT NULL,
        PRIMARY KEY (form_id, sheet_no)
    );

    -- A second entry of a sheet whose answers differ from the first: kept here, whole, for a
    -- reviewer, and never counted as a submission.
    CREATE TABLE paper_conflicts (
        id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL,
        sheet_no INTEGER NOT NULL,
        first_instance_id TEXT NOT NULL,
        xml BLOB NOT NULL,
        differences_json TEXT NOT NULL,
        entered_by TEXT,
        entered_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT,
        resolution_note TEXT
    );
    CREATE INDEX paper_conflicts_sheet ON paper_conflicts(form_id, sheet_no);

    -- One response per dossier code: finding an earlier answer for a code must not scan every
    -- identifier.
    CREATE INDEX identifiers_value ON identifiers(path, value);
    """,
    6: """
    -- exports
    """,
    7: """
    -- who to ask: dossier registers, sample plans and their members (storage/registers.py,
    -- storage/sampling.py)

    -- One import of a register exported from the one-stop system.
    CREATE TABLE register_imports (
        id INTEGER PRIMARY KEY,
        filename TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        rows_total INTEGER NOT NULL,
        rows_imported INTEGER NOT NULL,
        rows_skipped INTEGER NOT NULL,
        imported_at TEXT NOT NULL,
        imported_by TEXT
    );

    -- A dossier handled by a unit. Dates are local (Vietnam) days, YYYY-MM-DD. A later import
    -- of the same code updates the row (registers are exported again once results are returned).
    CREATE TABLE dossiers (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        unit_code TEXT NOT NULL REFERENCES units(code),
        procedure_name TEXT,
        procedure_field TEXT,
        received_on TEXT,
        due_on TEXT,
        returned_on TEXT,
        import_id INTEGER NOT NULL REFERENCES register_imports(id)
    );
    CREATE INDEX dossiers_returned ON dossiers(returned_on, unit_code);

    -- The applicant's name and phone: identifiers, kept apart like the answers' identifiers.
    CREATE TABLE dossier_contacts (
        dossier_id INTEGER PRIMARY KEY REFERENCES dossiers(id),
        applicant_name TEXT,
        phone TEXT
    );

    -- A sample drawn from the dossiers returned in a period: the rule it was drawn by is kept
    -- whole so that anyone can draw it again from the seed and get the same members.
    -- unit_code NULL = the whole province.
    CREATE TABLE sample_plans (
        id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL REFERENCES forms(form_id),
        period TEXT NOT NULL,
        unit_code TEXT REFERENCES units(code),
        method TEXT NOT NULL CHECK (method IN ('formula', 'fixed')),
        margin TEXT,
        fixed_size INTEGER,
        by_field INTEGER NOT NULL DEFAULT 0,
        reserve_percent INTEGER NOT NULL,
        seed TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT,
        withdrawn_at TEXT,
        withdrawn_by TEXT
    );
    CREATE UNIQUE INDEX sample_plans_live ON sample_plans(form_id, period, coalesce(unit_code, ''))
        WHERE withdrawn_at IS NULL;

    -- Each stratum of a plan: a unit, and a field when the plan is stratified by field ('' if
    -- not): N dossiers, n drawn for the sample, r more drawn as its reserve.
    CREATE TABLE sample_strata (
        plan_id INTEGER NOT NULL REFERENCES sample_plans(id),
        unit_code TEXT NOT NULL,
        procedure_field TEXT NOT NULL,
        population INTEGER NOT NULL,
        size INTEGER NOT NULL,
        reserve INTEGER NOT NULL,
        PRIMARY KEY (plan_id, unit_code, procedure_field)
    );

    -- The drawn dossiers in the seed's order within their stratum (rank 1..n are the sample,
    -- the rest the reserve), and the surveyor each is assigned to. Whether a member was reached
    -- is not stored: it is read from the submissions carrying its dossier code, so an edited,
    -- rejected or deleted submission changes it without anything to keep in step.
    CREATE TABLE sample_members (
        plan_id INTEGER NOT NULL REFERENCES sample_plans(id),
        dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
        unit_code TEXT NOT NULL,
        procedure_field TEXT NOT NULL,
        rank INTEGER NOT NULL,
        reserve INTEGER NOT NULL,
        collector_id INTEGER REFERENCES users(id),
        PRIMARY KEY (plan_id, dossier_id)
    );
    CREATE INDEX sample_members_stratum ON sample_members(plan_id, unit_code, procedure_field, rank);
    CREATE INDEX sample_members_collector ON sample_members(collector_id, plan_id);
    """,
    8: f"""
    -- trust at the edge (issue 12)

    -- A signed-in web session, by the SHA-256 of the random id its cookie carries: logging out,
    -- a new password or a revocation deletes the row, and a saved cookie then opens nothing.
    CREATE TABLE web_sessions (
        sid_sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        started_at TEXT NOT NULL
    );
    CREATE INDEX web_sessions_user ON web_sessions(user_id);

    -- The unit scope of the account that imported a register (NULL: province-wide), so that
    -- the history of imports is shown within scope like everything else.
    ALTER TABLE register_imports ADD COLUMN unit_code TEXT;

    -- One answer per dossier compares codes without case, spaces or invisible characters
    -- (forms.conventions.dossier_key); this finds the earlier answers by that key.
    CREATE INDEX identifiers_dossier_key ON identifiers(path, {DOSSIER_KEY_SQL});
    """,
    9: """
    -- unit history (storage/units.py): a unit list takes effect on a date; units that leave
    -- it are retired, never deleted, and a code that comes back with another meaning is a new
    -- version. `units` keeps, per code, its latest version (what foreign keys point at).
    ALTER TABLE units ADD COLUMN valid_from TEXT;
    ALTER TABLE units ADD COLUMN retired_on TEXT;

    -- One meaning of a code over a period: key = the code for its first meaning, code@valid_from
    -- for each later one, so the keys already shown never change. Dates are local days;
    -- valid_from NULL = since before any dated list; retired_on = the first day it is no longer
    -- in force (NULL = in force). successor_key = the version its work went to.
    CREATE TABLE unit_versions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        code TEXT NOT NULL,
        parent_key TEXT,
        level TEXT NOT NULL CHECK (level IN ('tinh', 'huyen', 'xa')),
        name_vi TEXT NOT NULL,
        name_en TEXT,
        valid_from TEXT,
        retired_on TEXT,
        successor_key TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX unit_versions_code ON unit_versions(code, valid_from);

    INSERT INTO unit_versions (key, code, parent_key, level, name_vi, name_en, recorded_at)
    SELECT code, code, parent_code, level, name_vi, name_en, imported_at FROM units;
    """,
    10: """
    -- consent enforced where the numbers are made (aggregate/scoring.py): a submission of a
    -- version that asks for consent, without consent = yes, is scored as having no valid answer
    -- (so it is counted, never a respondent) and marked declined, counted on its own
    ALTER TABLE submission_scores ADD COLUMN declined INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX submission_scores_declined ON submission_scores(submission_id) WHERE declined = 1;
    -- the scores stored so far were made without that rule; they are derived data (the answers
    -- are untouched), so they are dropped here and aggregate.scoring.refresh makes them again,
    -- and the rollup with them, at the next index request
    DELETE FROM score_rollup;
    DELETE FROM submission_scores;
    """,
    11: "",
    12: """
    -- Bearer tokens of ODK Central's API (/v1/sessions, server/central): only the token's
    -- SHA-256 is kept; a new password or a revocation deletes the account's rows, as for
    -- web_sessions.
    CREATE TABLE api_sessions (
        token_sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX api_sessions_user ON api_sessions(user_id);
    """,
    13: _CHOICE_ROLLUP,
    14: """
    -- Settings an administrator changes in the web pages (storage/settings.py): the public
    -- address used in every QR code and link, the report's issuing body and signature.
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT
    );
    """,
}

# Columns every answer table has; a form field may not take one of these names.
ANSWER_META_COLUMNS = ("_submission_id", "_row_id", "_parent_row_id", "_index")

# Form ids are any text ODK accepts ("1_rank", "Spec test"); in a table name every character
# outside this set is percent-encoded, which leaves the ids of the old rule (and so the tables
# made under it) unchanged and keeps ":" free to separate the form from its repeat.
_TABLE_SAFE = re.compile(r"[A-Za-z0-9_.-]")


def migrate(db) -> None:
    """Bring the database to SCHEMA_VERSION; safe to call from several processes at once."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(_MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str):
    """Split a script into statements (executescript would commit the open transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    leftover = [line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")]
    if leftover:
        raise ValueError(f"incomplete SQL statement: {pending!r}")


def answer_table(form_id: str, repeat: str | None = None) -> str:
    """Name of the answer table for a form's top level or one of its repeats."""
    if not form_id:
        raise ValueError("empty form id")
    encoded = "".join(ch if _TABLE_SAFE.fullmatch(ch) else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
                      for ch in form_id)
    return f"data:{encoded}" if repeat is None else f"data:{encoded}:{repeat}"


def ensure_answer_tables(db, form_id: str, fields: list[dict]) -> None:
    """Create or widen the answer tables of a form so every stored field has a column.

    Columns are only ever added, so rows stored under older versions stay readable and a
    field that left the form keeps its data.
    """
    repeats = [f["path"] for f in fields if f["type"] == "repeat"]
    wanted: dict[str | None, list[str]] = {None: []}
    for repeat in repeats:
        wanted[repeat] = []
    for field in fields:
        if field["type"] in ("group", "repeat") or field.get("sensitive"):
            continue
        if field["path"] in ANSWER_META_COLUMNS:
            raise ValueError(f"field name {field['path']!r} is reserved")
        wanted[field.get("repeat")].append(field["path"])
    for repeat, columns in wanted.items():
        table = db[answer_table(form_id, repeat)]
        if not table.exists():
            if repeat is None:
                meta = {"_submission_id": int}
                pk = "_submission_id"
            else:
                meta = {"_row_id": int, "_submission_id": int, "_parent_row_id": int, "_index": int}
                pk = "_row_id"
            table.create({**meta, **{c: str for c in columns}}, pk=pk)
            if repeat is not None:
                table.create_index(["_submission_id"])
            continue
        existing = set(table.columns_dict)
        for column in columns:
            if column not in existing:
                table.add_column(column, str)
