"""The cycle record's tables, defined once for SQLite and PostgreSQL (SQLAlchemy Core).

Every row says when it was made and from where (a submission, HR's master, a
command). docs/record.md describes each table for HR's IT.

``kpisheet_store`` has one row: the record's identity (``store_id``, written
into every master made from it), the schema version, and ``generation``, the
number of the last committed change. Every writing run locks that row first
(``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so
two desks' runs are serialised by the database itself, and bumps the counter;
the master carries the generation it shows.
"""

from __future__ import annotations

import sqlalchemy as sa

# Bump when a table changes; a record with a higher number is refused (made by a newer kpisheet), one with a
# lower number is upgraded in place when opened (xladdin/record/upgrade.py: one step per version).
# 2: receipts (every file received, per run)
SCHEMA_VERSION = 2
STORE_ROW = 1

metadata = sa.MetaData()


def _text(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Text, **kw)


def _key(name: str) -> sa.Column:
    # keys are short texts (periods, IDs, team names); a bounded type indexes on every server
    return sa.Column(name, sa.String(200), primary_key=True)


store = sa.Table(
    "kpisheet_store", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("store_id", sa.String(36), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(40), nullable=False),   # kpisheet version
    sa.Column("generation", sa.BigInteger, nullable=False),
    # the audit log's newest hash and length: removing the last entries is detected too
    sa.Column("audit_head", sa.String(64), nullable=False),
    sa.Column("audit_count", sa.BigInteger, nullable=False),
)

# HR's 设置 values (inbox, roster, period, ...), by item key
settings = sa.Table(
    "settings", metadata,
    _key("key"),
    _text("value"),
)

# one row per appraisal period: its state and dates
periods = sa.Table(
    "periods", metadata,
    _key("period"),
    sa.Column("state", sa.String(20), nullable=False),         # open scored calibrated published closed
    sa.Column("published", sa.Date),
    sa.Column("deadline", sa.Date),
    sa.Column("last_run", sa.BigInteger),                     # generation of the last consolidation of it
    _text("incomplete"),                                      # teams missing when HR went on with --allow-incomplete
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# the teams the roster expects for a period (the submission tracker's list)
teams = sa.Table(
    "teams", metadata,
    _key("period"), _key("department"), _key("team"),
    sa.Column("manager_id", sa.String(200)),
    _text("manager_name"),
    sa.Column("headcount", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# every file received
submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64)),
    _text("path", nullable=False),
    sa.Column("department", sa.String(200)),
    sa.Column("team", sa.String(200)),
    sa.Column("period", sa.String(200)),
    sa.Column("saved_at", sa.DateTime),          # the workbook's own docProps modified time
    _text("saved_by"),                           # docProps lastModifiedBy
    sa.Column("file_mtime", sa.DateTime),
    sa.Column("received_at", sa.DateTime, nullable=False),
    _text("received_by"),                        # OS user of the run
    sa.Column("status", sa.String(20), nullable=False),       # accepted rejected superseded withdrawn
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    _text("note"),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Index("ix_submissions_sha256", "sha256", unique=True),
    sa.Index("ix_submissions_group", "period", "department", "team"),
)

# every file received, one row per path per run: its submission is the content it carries (the record reads
# and judges each content once; a copy or a file received again points at the submission of its bytes)
receipts = sa.Table(
    "receipts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    _text("path", nullable=False),               # relative to the master, as submissions.path
    sa.Column("sha256", sa.String(64)),          # None: the file could not be read
    sa.Column("received_at", sa.DateTime, nullable=False),
    _text("received_by"),                        # OS user of the run
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),         # new | known | copy (xladdin/record/receipts.py)
    sa.Index("ix_receipts_submission", "submission_id"),
)

findings = sa.Table(
    "findings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code", sa.String(80), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    _text("sheet"), _text("cell"), _text("employee_id"), _text("indicator"), _text("value"), _text("expected"),
    _text("message_zh"), _text("message_en"), _text("hint"),
    sa.Index("ix_findings_submission", "submission_id"),
)

# the accepted results: one row per period x employee (总表's system columns)
results = sa.Table(
    "results", metadata,
    _key("period"), _key("employee_id"),
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id")),
    sa.Column("department", sa.String(200)), sa.Column("team", sa.String(200)),
    _text("name"), _text("role"), _text("manager"), _text("status"),
    sa.Column("post_start", sa.Date),
    _text("subtotals"),                          # JSON {category code: score}
    sa.Column("bonus", sa.Float), _text("veto"), sa.Column("total", sa.Float), sa.Column("system_grade", sa.String(10)),
    _text("feedback"), _text("pip_shortfalls"), _text("pip_actions"), _text("pip_owner"), _text("pip_due"),
    _text("source_file"), sa.Column("source_sha256", sa.String(64)), _text("source_status"),
    sa.Column("source_cell", sa.String(20)),     # the ID's cell on the file's 汇总 sheet (cross-file findings)
    _text("in_distribution"), _text("excluded_why"),
    sa.Column("final_grade", sa.String(10)), sa.Column("coefficient", sa.Float), sa.Column("dept_rank", sa.Integer),
    _text("pip"), _text("consecutive_d"), _text("review"),
    sa.Column("updated_at", sa.DateTime),
    sa.Index("ix_results_team", "period", "department", "team"),
)

# one row per period x employee x indicator (指标明细)
indicators = sa.Table(
    "indicators", metadata,
    _key("period"), _key("employee_id"), _key("code"),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("department", sa.String(200)), sa.Column("team", sa.String(200)),
    _text("name"), _text("category"), _text("indicator"), _text("unit"),
    sa.Column("weight", sa.Float), sa.Column("floor", sa.Float), sa.Column("target", sa.Float),
    sa.Column("challenge", sa.Float), sa.Column("actual", sa.Float), sa.Column("self_rating", sa.Float),
    sa.Column("manager_rating", sa.Float), sa.Column("score", sa.Float), sa.Column("weighted", sa.Float),
    _text("comment"),
)

# HR's decisions on the cells HR owns in the master, append-only: the current value of a field is its newest row
decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sheet", sa.String(40), nullable=False),         # 总表 申诉 年度 设置
    sa.Column("period", sa.String(200), nullable=False),       # period (年度: year; 设置: "")
    sa.Column("employee_id", sa.String(200), nullable=False),  # employee ID (设置: "")
    sa.Column("field", sa.String(200), nullable=False),        # column key, or extra:<header> of a column HR added
    _text("value"),
    sa.Column("state", sa.String(10), nullable=False),         # applied | pending
    _text("made_by"),                                          # OS user of the run
    _text("master_by"),                                        # the master's lastModifiedBy, when read from it
    sa.Column("made_at", sa.DateTime, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),        # master | kpisheet | command
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Index("ix_decisions_key", "sheet", "period", "employee_id", "field", "id"),
)

# 申诉 rows as last computed (JSON: deadlines and flags; HR's own cells are decisions)
appeals = sa.Table(
    "appeals", metadata,
    _key("period"), _key("employee_id"),
    _text("row", nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# 年度 rows as last rolled up (JSON; HR's notes are decisions)
annual = sa.Table(
    "annual", metadata,
    _key("year"), _key("employee_id"),
    _text("row", nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# append-only; each entry carries the hash of the one before (kpisheet store check)
audit = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("action", sa.String(80), nullable=False),
    sa.Column("period", sa.String(200)),
    _text("key"), _text("column_name"), _text("old"), _text("new"), _text("reason"), _text("by_user"),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_period", "period"),
)

# every master written from the record: what it shows and the fingerprint of its own cells
masters = sa.Table(
    "masters", metadata,
    sa.Column("master_id", sa.String(36), primary_key=True),     # the view_id in the master's _meta
    sa.Column("generation", sa.BigInteger, primary_key=True, autoincrement=False),
    _text("path", nullable=False),
    sa.Column("written_at", sa.DateTime, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),       # of the file as written
    _text("scope", nullable=False),                            # JSON: the periods shown
    _text("digests", nullable=False),                          # JSON: sheet -> digest of its rows
    sa.Index("ix_masters_sha256", "sha256"),
)

ALL_TABLES = tuple(metadata.sorted_tables)
