"""Why the cycle record cannot be used: each kind one bilingual error with its own code (exit 2)."""

from __future__ import annotations

from kpisheet.validators.errors import EXIT_FINDINGS, EXIT_USAGE, KpisheetError


class StoreError(KpisheetError):
    """The cycle record cannot be opened, read or written."""

    code = "store"
    exit_code = EXIT_USAGE
    title_zh, title_en = "考核记录库错误", "cycle record error"
    description = "The cycle record (kpisheet.db or the PostgreSQL database given by --store) cannot be used."


class StoreForeign(StoreError):
    code = "store-foreign"
    title_zh, title_en = "不是 kpisheet 记录库", "not a kpisheet record"
    description = ("The file or database named as the cycle record is not one kpisheet made (another program's "
                   "SQLite file or database, or any other file). It is left untouched.")


class StoreDamaged(StoreError):
    code = "store-damaged"
    title_zh, title_en = "记录库已损坏", "record damaged"
    description = ("The cycle record fails SQLite's own integrity check or cannot be read. Restore it from a "
                   "backup (docs/record.md); kpisheet does not write to it.")


class StoreNewer(StoreError):
    code = "store-newer"
    title_zh, title_en = "记录库版本较新", "record from a newer kpisheet"
    description = "The cycle record was made by a newer kpisheet whose tables this version does not know."


class StoreOlder(StoreError):
    code = "store-older"
    title_zh, title_en = "记录库版本较旧", "record from an older kpisheet"
    description = ("The cycle record was made by an older kpisheet: its schema version is older than this "
                   "version's, or missing, or tables this version needs are absent. It is left untouched; "
                   "nothing is written. Use the kpisheet that made it, or start a new record (--store) and "
                   "consolidate the inbox into it.")


class StoreBusy(StoreError):
    code = "store-busy"
    title_zh, title_en = "记录库正忙", "record busy"
    description = "Another kpisheet run holds the cycle record for writing longer than this run waits."


class StoreUnreachable(StoreError):
    code = "store-unreachable"
    title_zh, title_en = "无法连接记录库", "record unreachable"
    description = ("The database server named by --store is down, refuses the login, or the folder of "
                   "kpisheet.db cannot be written (read-only, disk full).")


class StoreMismatch(StoreError):
    code = "store-mismatch"
    title_zh, title_en = "汇总表与记录库不匹配", "master of another record"
    description = ("The master was generated from a different cycle record than the one given (another "
                   "kpisheet.db or server). Point --store at the master's own record, or use a new master name.")


class AuditChainBroken(StoreError):
    code = "store-audit-chain"
    exit_code = EXIT_FINDINGS
    title_zh, title_en = "审计日志被改动", "audit log altered"
    description = ("`kpisheet store check` found an audit log entry removed or edited: each entry carries the "
                   "hash of the one before it, and the chain no longer holds from the entry named.")
