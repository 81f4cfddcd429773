"""The cycle record: the system of record of an appraisal cycle (see docs/record.md).

One database, SQLite beside the master by default (``kpisheet.db``) or a
PostgreSQL server shared by several HR desks, reached through SQLAlchemy Core
so that both run the same statements. It holds every submission received, the
accepted results, HR's decisions with who, when and why, the appeals, the
annual roll-up, the periods and their state, and an append-only, hash-chained
audit log. The master workbook is a view of it (:mod:`kpisheet.xladdin.master`).
"""
