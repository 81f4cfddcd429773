"""Reading untrusted workbooks: the guard first, values with python-calamine, batches in worker processes.

:func:`read_workbook` guards one file and reads its cell values from the
package the guard checked (:class:`kpisheet.validators.reading.guard.GuardedPackage`),
never from the original archive. :func:`run_isolated` runs any per-file function over
many files in worker processes, so that a file which still manages to crash
or hang a reader costs only its own result: the worker's death becomes a
``file-unreadable`` finding for that file and the batch goes on.

Workers come from a fork server (on POSIX) with this module preloaded, so a
replacement worker starts in milliseconds without inheriting the parent's
threads (the progress bar's) or locks. Each worker is recycled after
``MAX_TASKS_PER_WORKER`` files (more in a large batch: :func:`tasks_per_worker`) so one large file's
memory is not kept, and
may be capped in address space (``memory_limit_mb``), so that an allocation
that would take the machine down fails inside the worker instead.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import signal
import sys
from contextlib import contextmanager
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.reading import forkserver_main
from kpisheet.validators.reading.guard import DEFAULT_LIMITS, GuardLimits, GuardResult, read_guarded
from kpisheet.validators.errors import KpisheetError

DEFAULT_TIMEOUT = 60.0  # seconds per file; a normal workbook takes milliseconds
DEFAULT_MEMORY_MB = 2048  # address-space cap per worker (POSIX); None for no cap
# A new worker costs a few hundred milliseconds (the batch's settings, a roster of thousands, are
# unpickled in it): at 50 files per worker that was a fifth of a batch's time, at 200 a twentieth.
MAX_TASKS_PER_WORKER = 200
# ... and with the roster of a large company (97,000 people: 1.2 s to unpickle) a worker restarted every
# 200 files spent a sixth of an 8,000-file batch starting. A large batch therefore recycles each worker
# about this many times whatever its size, never more often than every MAX_TASKS_PER_WORKER files.
RESTARTS_PER_WORKER = 4


def tasks_per_worker(files: int, workers: int) -> int:
    """How many files a worker reads before it is replaced by a fresh one."""
    return max(MAX_TASKS_PER_WORKER, -(-files // (max(1, workers) * RESTARTS_PER_WORKER)))

Values = dict[str, list[list]]


@dataclass(frozen=True)
class WorkbookRead:
    """One file as read: its hash, what it is, every file-level finding and, if readable, its values.

    ``sheets`` maps each sheet read to rows of python-calamine values
    (starting at A1; whole numbers as floats, empty cells as ''); it is empty
    when the file could not be read. ``visibility`` gives every sheet's state
    ('visible', 'hidden' or 'veryHidden') as the file declares it.
    """

    path: str
    sha256: str | None
    kind: str
    findings: tuple[Finding, ...]
    sheets: Values = field(default_factory=dict)
    visibility: dict[str, str] = field(default_factory=dict)
    read: bool = False

    @property
    def sheet_names(self) -> list[str]:
        return list(self.visibility)


class FileRefused(KpisheetError):
    """:func:`read_values` could not read the file; ``findings`` say why."""

    code = "file-refused"
    title_zh, title_en = "文件被拒绝读取", "file refused"
    description = "The pre-read guard or the reader refused the file; its findings say why."

    def __init__(self, path: str, findings: Sequence[Finding]):
        self.path = path
        self.findings = tuple(findings)
        super().__init__(f"{path}：" + "；".join(f.message_zh for f in self.findings),
                         f"{path}: " + "; ".join(f.message_en for f in self.findings))


def read_workbook(path: str | Path, sheets: Iterable[str] | None = None,
                  limits: GuardLimits = DEFAULT_LIMITS) -> WorkbookRead:
    """Guard ``path`` and, if it is safe, read the values of ``sheets`` (all sheets when None).

    Never raises for a bad file: every problem is a finding. Sheets not in
    the workbook are simply absent from ``sheets``.
    """
    path = Path(path)
    wanted = None if sheets is None else tuple(sheets)
    try:
        verdict, data = read_guarded(path, limits, wanted)
    except OSError as error:
        return WorkbookRead(str(path), None, "missing", (_unreadable(
            f"无法打开文件（{error.strerror or error}）", f"the file cannot be opened ({error.strerror or error})"),))
    digest = hashlib.sha256(data).hexdigest() if data is not None else None
    if not verdict.readable or verdict.package is None:
        return WorkbookRead(str(path), digest, verdict.detected.kind, verdict.findings)
    try:
        values, visibility = _calamine_values(verdict, wanted)
    except _ReaderError as error:
        return WorkbookRead(str(path), digest, verdict.detected.kind,
                            verdict.findings + (_reader_failure(error.original),))
    return WorkbookRead(str(path), digest, verdict.detected.kind, verdict.findings, values, visibility, read=True)


def read_values(path: str | Path, sheets: Iterable[str] | None = None,
                limits: GuardLimits = DEFAULT_LIMITS) -> Values:
    """The cell values of ``path`` by sheet name, after the guard; raises :class:`FileRefused` if unreadable."""
    result = read_workbook(path, sheets, limits)
    if not result.read:
        raise FileRefused(str(path), result.findings)
    return result.sheets


def values_of_guarded(verdict: GuardResult, sheets: Iterable[str] | None = None) -> tuple[Values | None, Finding | None]:
    """The cell values of the sheets a readable guard verdict vouched for (all it guarded when None).

    (values, None), or (None, the finding saying why the reader failed). For a
    caller that needs the file's bytes too (validation hashes them), so the
    file is read from disk once and guarded once.
    """
    try:
        values, _ = _calamine_values(verdict, sheets)
    except _ReaderError as error:
        return None, _reader_failure(error.original)
    return values, None


_VISIBILITY = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}


class _ReaderError(KpisheetError):
    """python-calamine failed on the file (as opposed to a bug of ours, which must surface)."""

    def __init__(self, original: BaseException):
        super().__init__(f"读取器无法读取：{original}", f"the reader failed: {original}")
        self.original = original


@contextmanager
def _reader_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:  # CalamineError, XmlError, ZipError, PasswordError, ...
        raise _ReaderError(error) from error
    except BaseException as error:
        if type(error).__name__ == "PanicException":  # a Rust panic surfaces as a BaseException
            raise _ReaderError(error) from error
        raise


def _calamine_values(verdict: GuardResult, wanted: Iterable[str] | None) -> tuple[Values, dict[str, str]]:
    from python_calamine import CalamineWorkbook

    package = verdict.package
    if package is None:
        raise ValueError("the guard did not pass this file")  # a caller's bug, not a bad file
    with _reader_errors():
        book = CalamineWorkbook.from_filelike(io.BytesIO(package.reader_zip))
        states = [(meta.name, str(meta.visible)) for meta in book.sheets_metadata]
    try:
        visibility = {name: _VISIBILITY.get(state.rsplit(".", 1)[-1], state) for name, state in states}
        # only sheets the guard vouched for; the others are not even in the reader's package
        names = [n for n in (package.sheets if wanted is None else wanted) if n in visibility and n in package.sheets]
        values = {}
        for name in names:
            with _reader_errors():
                # skip_empty_area=False: rows and columns start at A1, as the layout counts them
                values[name] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        return values, visibility
    finally:
        book.close()


def _reader_failure(error: BaseException) -> Finding:
    name = type(error).__name__
    if name == "PasswordError":
        return make_finding("file-encrypted")
    if isinstance(error, MemoryError):
        return _unreadable("读取时内存不足（文件内容过大）", "it ran out of memory while reading (the content is too large)")
    detail = str(error).splitlines()[0][:200] if str(error) else name
    return _unreadable(f"表格内容无法解析（{detail}）", f"its content cannot be parsed ({name}: {detail})")


def _unreadable(reason_zh: str, reason_en: str) -> Finding:
    return make_finding("file-unreadable", reason_zh=reason_zh, reason_en=reason_en)


def read_workbook_isolated(path: str | Path, sheets: Iterable[str] | None = None,
                           limits: GuardLimits = DEFAULT_LIMITS, *, timeout: float | None = DEFAULT_TIMEOUT,
                           memory_limit_mb: int | None = DEFAULT_MEMORY_MB) -> WorkbookRead:
    """:func:`read_workbook` in a worker process of its own (see :func:`run_isolated`).

    For a single file read by a command that must outlive it (HR's master):
    whatever the file does to the reader -- an abort, an allocation of
    hundreds of GB, a hang -- costs a ``file-unreadable`` finding, never the
    calling process.
    """
    request = (None if sheets is None else tuple(sheets), limits)
    for _, outcome in run_isolated(_read_requested, [path], 1, timeout=timeout, memory_limit_mb=memory_limit_mb,
                                   initializer=_set_request, initargs=(request,)):
        if isinstance(outcome, WorkerFailure):
            return WorkbookRead(str(path), None, "unknown", outcome.findings)
        return outcome
    raise AssertionError("run_isolated gives one outcome per path")  # pragma: no cover


_request: tuple[tuple[str, ...] | None, GuardLimits] | None = None


def _set_request(request: tuple[tuple[str, ...] | None, GuardLimits]) -> None:
    global _request
    _request = request


def _read_requested(path: str) -> WorkbookRead:
    sheets, limits = _request
    return read_workbook(path, sheets, limits)


# --- batches in worker processes -------------------------------------------------------


@dataclass(frozen=True)
class WorkerFailure:
    """A file whose worker crashed, hung or raised: the per-file function gave no result.

    ``findings`` holds one ``file-unreadable`` finding; ``detail`` the
    technical cause (exit signal, timeout, or the exception's traceback).
    """

    findings: tuple[Finding, ...]
    detail: str


Progress = Callable[[Path, Any], None]


class WorkerPoolError(KpisheetError):
    """Worker processes cannot run at all: a fault of the environment, not of any file."""

    code = "worker-pool"
    title_zh, title_en = "工作进程无法启动", "worker processes cannot start"
    description = "The operating system refused to start the worker processes that read untrusted files."


def run_isolated(func: Callable[[str], Any], paths: Iterable[str | Path], jobs: int | None = None, *,
                 progress: Progress | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                 memory_limit_mb: int | None = DEFAULT_MEMORY_MB, initializer: Callable[..., None] | None = None,
                 initargs: Sequence[Any] = ()) -> Iterator[tuple[Path, Any]]:
    """Run ``func(path)`` for every path in worker processes; yield ``(path, outcome)`` as each finishes.

    ``func`` must be a module-level function taking the path as a string and
    returning something picklable (e.g. a :class:`WorkbookRead` or a report);
    ``outcome`` is its result, or a :class:`WorkerFailure` if the worker died,
    timed out after ``timeout`` seconds or raised. No file is lost to another
    one's crash: a file whose worker died is run once more in a worker of its
    own before it is given up (a worker can also die for a neighbour's sake,
    e.g. memory pressure), and files caught in a pool that broke down are run
    again. ``jobs`` defaults to the number of cores. Results come in
    completion order; ``progress(path, outcome)`` is called for each in the
    calling thread. ``initializer(*initargs)`` runs once in every worker (e.g.
    to load the rulebook and roster into module globals instead of pickling
    them with every file). Raises :class:`WorkerPoolError` only if no worker
    can run at all.
    """
    setup = _WorkerSetup(memory_limit_mb, initializer, tuple(initargs))
    pending = [Path(p) for p in paths]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(pending) or 1))
    alone: list[Path] = []
    while pending:
        crashed: list[Path] = []
        broken: list[Path] = []
        finished = 0
        for path, outcome in _round(func, pending, workers, timeout, setup, crashed, broken):
            finished += 1
            if progress is not None:
                progress(path, outcome)
            yield path, outcome
        alone += crashed
        if broken and not finished:  # nothing got through: find the culprit one file at a time
            alone += broken
            broken = []
        pending = broken
    for path in alone:
        outcome = _run_alone(func, path, timeout, setup)
        if progress is not None:
            progress(path, outcome)
        yield path, outcome


def _round(func: Callable[[str], Any], paths: list[Path], workers: int, timeout: float | None,
           setup: _WorkerSetup, crashed: list[Path], broken: list[Path]) -> Iterator[tuple[Path, Any]]:
    """One pool over ``paths``; files whose worker died or whose pool broke are appended, not yielded."""
    from pebble import ProcessExpired

    pool = _pool(workers, setup, len(paths))
    try:
        futures = {pool.schedule(func, (str(path),), timeout=timeout): path for path in paths}
        for future in as_completed(futures):
            path = futures[future]
            try:
                outcome = future.result()
            except ProcessExpired:
                crashed.append(path)
                continue
            except BrokenProcessPool:
                broken.append(path)
                continue
            except BaseException as error:
                if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                    raise
                outcome = _failure(error, timeout)
            yield path, outcome
    finally:
        pool.stop()
        pool.join()


def _run_alone(func: Callable[[str], Any], path: Path, timeout: float | None, setup: _WorkerSetup) -> Any:
    pool = _pool(1, setup, 1)
    try:
        return pool.schedule(func, (str(path),), timeout=timeout).result()
    except BrokenProcessPool as error:
        raise WorkerPoolError(f"工作进程无法启动，无法校验文件：{error}",
                              f"worker processes cannot start, so no file can be checked: {error}") from error
    except BaseException as error:
        if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        return _failure(error, timeout)
    finally:
        pool.stop()
        pool.join()


@dataclass(frozen=True)
class _WorkerSetup:
    memory_limit_mb: int | None
    initializer: Callable[..., None] | None
    initargs: tuple


def _pool(workers: int, setup: _WorkerSetup, files: int):
    from pebble import ProcessPool

    return ProcessPool(max_workers=workers, max_tasks=tasks_per_worker(files, workers), initializer=_prepare_worker,
                       initargs=(setup,), context=_context())


def _context():
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported the validation engine and the
        # caller's main module (which every new worker would otherwise import again): a worker
        # then starts warm, where a cold start cost about half a second, a whole worker's
        # share of a batch at MAX_TASKS_PER_WORKER files. A module that cannot be imported is
        # skipped. The main module is loaded by forkserver_main: CPython 3.11 ignores "__main__"
        # in this list.
        context.set_forkserver_preload([forkserver_main.__name__, __name__, "kpisheet.validators.validate"])
        forkserver_main.start_with_main()
        return context
    return multiprocessing.get_context("spawn")


def _prepare_worker(setup: _WorkerSetup) -> None:
    # A reader that aborts prints its allocation failure (and a Rust backtrace)
    # to stderr; the user gets a finding instead, so the worker's stderr is
    # discarded. Python errors still travel back with their tracebacks.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    os.environ["RUST_BACKTRACE"] = "0"
    if setup.memory_limit_mb:
        _limit_address_space(setup.memory_limit_mb)
    if setup.initializer is not None:
        setup.initializer(*setup.initargs)


def _limit_address_space(limit_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no address-space limit; the guard and the process boundary remain
        return
    limit = limit_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _failure(error: BaseException, timeout: float | None) -> WorkerFailure:
    from pebble import ProcessExpired

    if isinstance(error, ProcessExpired):
        code = error.exitcode
        cause = _signal_name(code)
        return WorkerFailure((_unreadable(
            f"读取此文件的进程异常退出（{cause}），单独重试后仍然失败",
            f"the process reading it died ({cause}), also when retried on its own"),), f"worker exit code {code}")
    if isinstance(error, FutureTimeout):
        return WorkerFailure((_unreadable(
            f"读取超时（超过 {timeout:g} 秒）", f"reading it timed out (over {timeout:g} seconds)"),), "timeout")
    if isinstance(error, MemoryError):
        return WorkerFailure((_unreadable(
            "读取时内存不足（文件内容过大）", "it ran out of memory while reading (the content is too large)"),), "MemoryError")
    trace = getattr(error, "traceback", "") or repr(error)
    return WorkerFailure((_unreadable(
        f"校验程序处理此文件时出错（{type(error).__name__}: {error}）",
        f"the checker failed on it ({type(error).__name__}: {error})"),), str(trace))


def _signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exit code {exitcode}"
