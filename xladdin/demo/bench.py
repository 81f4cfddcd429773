"""`kpisheet bench`: the speed and memory figures of DESIGN.md section 6, measured side by side in one run.

    results = run_bench(1000)

Every ratio is the median over paired runs: the two sides run one after the
other on the same files (their order alternating between pairs), so a load
change on a shared machine hits both sides of a pair alike. Ratios are
oriented as named:

=============================  ==========================================================  =========
ratio                          meaning                                                     goal
=============================  ==========================================================  =========
validate_vs_calamine           kpisheet validation of a file / a bare python-calamine       <= 2
                               read of the same sheets of that file (one process); also     (aim 1.5)
                               reported against a read of every sheet (…_whole_file)
validate_vs_inflate_floor      the same / only inflating the sheet parts validation reads   reported
                               with zlib: the floor any reader of the file pays
openpyxl_vs_validate           naive openpyxl validation (bench_naive) / kpisheet's         >= 20
workers2_speedup               batch validation with 1 worker / with 2 workers; a pair     >= 1.7
                               during which other processes kept a core busy is measured
                               again, and each pair's load is reported beside it
consolidate_vs_validate        consolidation end to end / validation alone, whole corpus   <= 1.5
reconsolidate_one_vs_full      consolidation after one file changed / the first one        <= 0.1
master_write_vs_xlsxwriter     master writer / bare xlsxwriter write of the same rows       <= 1.2
validate_memory_growth         peak memory validating SCALE x the files / the files        <= 1.2
consolidate_memory_growth      the same for consolidation (record and master included)      <= 1.2
=============================  ==========================================================  =========

The corpus holds SCALE (8) times the teams asked for; every ratio above but
the last two uses its first ``teams`` files. The scale runs validate, then
consolidate, the first ``teams`` files and then all of them, each in a fresh
process with the roster of its teams (a company of that size): seconds, and
the peak resident set of the whole process tree (main process and worker
processes, summed, sampled every 20 ms). 8,000 files consolidated, validation
included, have a time goal of 5 minutes (``scale`` in the JSON). The load
average is recorded at the start and end of every figure (``load``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.demo.bench_corpus import PERIOD, Corpus, make_corpus
from kpisheet.validators.errors import KpisheetError
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.progress import progress_bar

MASTER_ROWS = 100_000
SCALE = 8  # memory and time are measured at the corpus's size and at SCALE times it
# inside --work: the corpus (kept for the next run of the same size) and the masters written
CORPUS_DIR = "kpisheet-bench-corpus"
MASTERS_DIR = "kpisheet-bench-masters"
GOALS = {
    "validate_vs_calamine": ("<=", 2.0),
    "openpyxl_vs_validate": (">=", 20.0),
    "workers2_speedup": (">=", 1.7),
    "consolidate_vs_validate": ("<=", 1.5),
    "reconsolidate_one_vs_full": ("<=", 0.1),
    "master_write_vs_xlsxwriter": ("<=", 1.2),
    "validate_memory_growth": ("<=", 1.2),
    "consolidate_memory_growth": ("<=", 1.2),
}
# the scale runs' time goal (issue 16): 8,000 team workbooks validated and consolidated within 5 minutes
SCALE_GOAL_FILES, SCALE_GOAL_SECONDS = 8000, 300
PER_FILE_SAMPLE = 100      # files timed one by one for validation vs calamine
NAIVE_SAMPLE = 10          # openpyxl takes about half a second a file
WORKER_SAMPLE = 1000       # files per batch in the 1-vs-2-workers pairs (the whole default corpus)
RSS_INTERVAL = 0.02
# a worker pair during which other processes used more than this share of one core is measured again
BUSY_CORE_SHARE = 0.5
WORKER_ATTEMPTS = 3


class BenchError(KpisheetError):
    """The benchmark cannot run as asked."""

    code = "bench"
    title_zh, title_en = "性能测试无法运行", "benchmark cannot run"
    description = "The benchmark cannot run (a work folder holding foreign files, a measurement child that failed)."


@dataclass
class BenchResults:
    teams: int
    corpus: dict
    machine: dict
    ratios: dict[str, float] = field(default_factory=dict)
    pairs: dict[str, list[list[float]]] = field(default_factory=dict)   # name -> [[side a s, side b s], ...]
    medians_ms: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load: dict[str, list] = field(default_factory=dict)  # figure -> [1-min load average at start, at end]
    # workers2_speedup: every pair measured, [1 worker s, 2 workers s, other processes' cores, load, kept]
    worker_attempts: list[list] = field(default_factory=list)
    # the scale runs: files, employees and each run's seconds (validate_N_seconds, consolidate_N_seconds)
    scale: dict = field(default_factory=dict)

    def goals(self) -> dict[str, dict]:
        out = {}
        for name, (op, limit) in GOALS.items():
            value = self.ratios.get(name)
            met = None if value is None else (value <= limit if op == "<=" else value >= limit)
            out[name] = {"goal": f"{op} {limit:g}", "value": value, "met": met}
        return out

    def to_dict(self) -> dict:
        from kpisheet import __version__

        return {"kpisheet": __version__, "teams": self.teams, "corpus": self.corpus, "machine": self.machine,
                "ratios": self.ratios, "goals": self.goals(), "medians_ms": self.medians_ms,
                "pairs_s": self.pairs, "peak_rss_mb": self.peak_rss_mb, "notes": self.notes, "load": self.load,
                "workers2_attempts": self.worker_attempts, "scale": self.scale_figures()}

    def scale_figures(self) -> dict:
        """The scale runs, with the time goal judged when the larger one has SCALE_GOAL_FILES files or more."""
        out = dict(self.scale)
        files = out.get("files")
        if files and files[-1] >= SCALE_GOAL_FILES:
            seconds = out.get(f"consolidate_{files[-1]}_seconds")
            out["end_to_end_goal_seconds"] = SCALE_GOAL_SECONDS
            out["end_to_end_met"] = None if seconds is None else seconds <= SCALE_GOAL_SECONDS
        return out


# --- the run ------------------------------------------------------------------------------------

def run_bench(teams: int = 1000, *, work: Path | None = None, repeats: int = 5, master_rows: int = MASTER_ROWS,
              scale: int = SCALE, console: Console | None = None) -> BenchResults:
    """Generate ``teams`` workbooks (or reuse them from ``work``) and take every figure."""
    from kpisheet.validators.rulebook.load import default_rulebook

    console = console or make_console(stderr=True)
    rulebook = default_rulebook()
    temporary = work is None
    folder = Path(tempfile.mkdtemp(prefix="kpisheet-bench-")) if temporary else Path(work)
    results = None
    try:
        with progress_bar(console) as progress:
            # one corpus for every figure: the first ``teams`` files, and all of them for the scale runs
            whole = _make_corpus(folder / CORPUS_DIR, teams * scale, rulebook, progress)
            corpus = whole.first(teams)
            results = BenchResults(teams, corpus.to_dict(), machine_info())
            results.machine["load_average_start"] = load_average()
            with _loaded(results, "validate_vs_calamine"):
                _validate_vs_calamine(results, corpus, rulebook, repeats, progress)
            with _loaded(results, "openpyxl_vs_validate"):
                _naive_vs_validate(results, corpus, rulebook, repeats, progress)
            with _loaded(results, "workers2_speedup"):
                _workers(results, corpus, rulebook, min(repeats, 3), progress)
            master = _consolidate_vs_validate(results, corpus, rulebook, folder / MASTERS_DIR, min(repeats, 3),
                                              progress)
            _reconsolidate(results, corpus, rulebook, folder / MASTERS_DIR, min(repeats, 3), progress)
            _master_write(results, master, rulebook, folder / MASTERS_DIR, master_rows, min(repeats, 3), progress)
            _scale(results, whole, teams, folder, progress)
            results.machine["load_average_end"] = load_average()
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    return results


@contextmanager
def _loaded(results: BenchResults, figure: str) -> Iterator[None]:
    """Record the 1-minute load average before and after measuring ``figure``."""
    start = load_average()
    yield
    end = load_average()
    results.load[figure] = [start[0] if start else None, end[0] if end else None]


def _make_corpus(folder: Path, teams: int, rulebook: Rulebook, progress: Progress) -> Corpus:
    from kpisheet.xladdin.demo.bench_corpus import CorpusFolderError

    tasks: dict[str, int] = {}
    labels = {"bases": "生成并填写基准考核表 base workbooks", "LibreOffice": "LibreOffice 另存 re-save",
              "copies": f"复制为 {teams} 个团队 copies as teams"}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(labels.get(stage, stage), total=total)
        progress.update(tasks[stage], completed=done)

    try:
        return make_corpus(folder, teams, rulebook, progress=report)
    except CorpusFolderError as error:
        raise foreign_corpus_folder(error.folder) from None


def foreign_corpus_folder(folder: Path) -> BenchError:
    """The error of a corpus folder holding files the benchmark did not make (they are left alone)."""
    return BenchError(f"{folder} 中有不是基准测试生成的文件，未删除；请换一个 --work 文件夹",
                      f"{folder} holds files the benchmark did not make; they were left alone, "
                      "choose another --work folder")


def _paired(name: str, results: BenchResults, rounds: int, side_a: Callable[[], float], side_b: Callable[[], float],
            ratio: Callable[[float, float], float]) -> None:
    """``rounds`` pairs, order alternating; the median of the per-pair ratios goes to ``results``."""
    pairs = []
    for r in range(rounds):
        if r % 2:
            b = side_b()
            a = side_a()
        else:
            a = side_a()
            b = side_b()
        pairs.append([a, b])
    results.pairs[name] = [[round(a, 4), round(b, 4)] for a, b in pairs]
    results.ratios[name] = round(statistics.median(ratio(a, b) for a, b in pairs), 3)


def _clock(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def _sample(files: list[Path], n: int) -> list[Path]:
    """``n`` files spread over the corpus (so every base workbook is in the sample)."""
    if len(files) <= n:
        return list(files)
    step = len(files) / n
    return [files[int(i * step)] for i in range(n)]


# --- validation vs a bare python-calamine read ---------------------------------------------------

def calamine_read(path: Path) -> None:
    """The floor: python-calamine opening the file and reading the sheets validation reads."""
    from python_calamine import CalamineWorkbook

    from kpisheet.validators.reading.submission import REQUIRED_SHEETS

    book = CalamineWorkbook.from_path(str(path))
    try:
        for name in REQUIRED_SHEETS:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        book.close()


def calamine_read_all(path: Path) -> None:
    """A plain read of the whole file: every sheet's values."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        book.close()


def sheet_members(path: Path, names=None) -> list[str]:
    """The archive members holding the named sheets (those validation reads by default), by the relationships."""
    import re
    import zipfile

    from kpisheet.validators.reading.submission import REQUIRED_SHEETS

    names = set(names or REQUIRED_SHEETS)
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"',
                                                            rels)}
    members = []
    for name, rel_id in re.findall(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', workbook):
        if name in names:
            target = targets[rel_id]
            members.append(target.lstrip("/") if target.startswith("/") else f"xl/{target}")
    return members


def inflate_floor(path: Path, members: list[str]) -> None:
    """The floor any reader pays: the file read and the sheet parts validation reads inflated with zlib."""
    import struct
    import zipfile
    import zlib

    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in members:
            info = archive.getinfo(name)
            start = info.header_offset + 30 + sum(struct.unpack_from("<HH", data, info.header_offset + 26))
            zlib.decompress(data[start:start + info.compress_size], -15)


def _validate_vs_calamine(results: BenchResults, corpus: Corpus, rulebook: Rulebook, repeats: int,
                          progress: Progress) -> None:
    """kpisheet's validation of one file, in this process, against python-calamine reading it.

    ``validate`` is exactly a batch worker's work per file (guard, hash, read, every check against
    the corpus roster and the period; the settings made once, as ``validate_paths`` makes them);
    ``validate_file`` is the single-file API, which also builds its settings and looks for roster
    members missing from the file, a pass over the whole roster that a batch makes once across
    files. The named ratio divides the first by a read of the same sheets.
    """
    from kpisheet.validators.validate import ValidationSettings, with_roster_index

    with tempfile.TemporaryDirectory(prefix="kpisheet-bench-roster-") as folder:
        roster = {p.employee_id: p for p in corpus.roster}
        # as a batch's worker holds them: the roster looked up in its SQLite file
        batch = with_roster_index(ValidationSettings.make(rulebook, roster, PERIOD, cross_file=True), folder)
        try:
            _time_per_file(results, corpus, rulebook, roster, batch, repeats, progress)
        finally:
            batch.roster.close()


def _time_per_file(results: BenchResults, corpus: Corpus, rulebook: Rulebook, roster, batch, repeats: int,
                   progress: Progress) -> None:
    from kpisheet.validators.validate import validate_batch_file, validate_file

    files = _sample(corpus.files, PER_FILE_SAMPLE)
    task = progress.add_task(f"校验 vs calamine（{len(files)} 个文件 files × {repeats}）", total=repeats)
    members = {path: sheet_members(path) for path in files}
    sides = {
        "validate": lambda path: validate_batch_file(batch, str(path)),
        "validate_file": lambda path: validate_file(path, rulebook=rulebook, roster=roster, period=PERIOD),
        "calamine": calamine_read,
        "calamine_whole_file": calamine_read_all,
        "inflate_floor": lambda path: inflate_floor(path, members[path]),
    }
    per_file: dict[str, list[float]] = {side: [] for side in sides}
    rounds = []
    for r in range(repeats):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        totals = dict.fromkeys(sides, 0.0)
        for path in files:
            for side in order:
                took = _clock(lambda: sides[side](path))
                totals[side] += took
                per_file[side].append(took)
        rounds.append(totals)
        progress.advance(task)
    for name, ours, floor in (("validate_vs_calamine", "validate", "calamine"),
                              ("validate_vs_calamine_whole_file", "validate", "calamine_whole_file"),
                              ("validate_file_vs_calamine", "validate_file", "calamine"),
                              ("validate_vs_inflate_floor", "validate", "inflate_floor")):
        results.pairs[name] = [[round(t[ours], 4), round(t[floor], 4)] for t in rounds]
        results.ratios[name] = round(statistics.median(t[ours] / t[floor] for t in rounds), 3)
    for side, took in per_file.items():
        results.medians_ms[f"{side}_per_file"] = round(statistics.median(took) * 1000, 2)


# --- naive openpyxl vs kpisheet -------------------------------------------------------------------

def _naive_vs_validate(results: BenchResults, corpus: Corpus, rulebook: Rulebook, repeats: int,
                       progress: Progress) -> None:
    from kpisheet.validators.validate import validate_file

    from kpisheet.xladdin.demo.bench_naive import naive_validate

    files = _sample(corpus.files, NAIVE_SAMPLE)
    roster = {p.employee_id: p for p in corpus.roster}
    task = progress.add_task(f"openpyxl 对照 naive baseline（{len(files)} 个文件 files × {repeats}）", total=repeats)

    def naive() -> float:
        took = sum(_clock(lambda: naive_validate(p, rulebook=rulebook, roster=roster, period=PERIOD)) for p in files)
        return took

    def kpisheet() -> float:
        took = sum(_clock(lambda: validate_file(p, rulebook=rulebook, roster=roster, period=PERIOD)) for p in files)
        progress.advance(task)
        return took

    _paired("openpyxl_vs_validate", results, repeats, naive, kpisheet, lambda a, b: a / b)
    results.medians_ms["openpyxl_per_file"] = round(
        statistics.median(a for a, _ in results.pairs["openpyxl_vs_validate"]) / len(files) * 1000, 2)


# --- 1 vs 2 worker processes ----------------------------------------------------------------------

def _workers(results: BenchResults, corpus: Corpus, rulebook: Rulebook, repeats: int, progress: Progress) -> None:
    """1 worker against 2 on the whole corpus, pair by pair, with the other processes' use of the cores measured.

    Two workers can only be twice as fast when two cores are free. On a shared machine a pair during which
    other processes used more than ``BUSY_CORE_SHARE`` of a core is measured again (up to
    ``WORKER_ATTEMPTS`` times); every attempt is kept in the JSON with its load, and the ratio is the
    median of the pairs kept (a pair still busy after the last attempt is kept and said so).
    """
    from kpisheet.validators.validate import validate_paths

    files = _sample(corpus.files, WORKER_SAMPLE)
    roster = list(corpus.roster)
    task = progress.add_task(f"1 对 2 个进程 1 vs 2 workers（{len(files)} 个文件 files × {repeats}）", total=repeats)

    def run(jobs: int) -> tuple[float, float]:
        """(seconds, cores other processes used meanwhile)."""
        before = _cpu_use()
        took = _clock(lambda: validate_paths(files, rulebook=rulebook, roster=roster, period=PERIOD, jobs=jobs))
        after = _cpu_use()
        others = max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / took
        return took, others

    pairs = []
    busy_kept = 0
    for r in range(repeats):
        for attempt in range(1, WORKER_ATTEMPTS + 1):
            load = load_average()
            if r % 2:
                (two, others_two), (one, others_one) = run(2), run(1)
            else:
                (one, others_one), (two, others_two) = run(1), run(2)
            others = round(max(others_one, others_two), 2)
            busy = others > BUSY_CORE_SHARE
            kept = not busy or attempt == WORKER_ATTEMPTS
            results.worker_attempts.append([round(one, 4), round(two, 4), others, load[0] if load else None, kept])
            if kept:
                pairs.append([one, two])
                busy_kept += busy
                break
        progress.advance(task)
    results.pairs["workers2_speedup"] = [[round(a, 4), round(b, 4)] for a, b in pairs]
    results.ratios["workers2_speedup"] = round(statistics.median(a / b for a, b in pairs), 3)
    if busy_kept:
        results.notes.append(f"{busy_kept} 个 1/2 进程配对在 {WORKER_ATTEMPTS} 次尝试后仍有其他进程占用核心 / "
                             f"{busy_kept} worker pair(s) still had other processes on a core after "
                             f"{WORKER_ATTEMPTS} attempts")
    if (os.cpu_count() or 1) < 2:
        results.notes.append("only one core: the 2-worker figure cannot show a speed-up here")


def _cpu_use() -> tuple[float, float]:
    """(CPU seconds used by the whole machine, by this process and its descendants, dead ones included)."""
    import psutil

    machine = psutil.cpu_times()
    busy = sum(getattr(machine, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))
    own = 0.0
    processes = [psutil.Process()]
    try:
        processes += processes[0].children(recursive=True)
    except psutil.Error:
        pass
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        # children_*: descendants already reaped (workers that finished) count with their parent
        own += times.user + times.system + times.children_user + times.children_system
    return busy, own


# --- consolidation vs validation ------------------------------------------------------------------

def _consolidate_vs_validate(results: BenchResults, corpus: Corpus, rulebook: Rulebook, folder: Path, repeats: int,
                             progress: Progress) -> Path:
    from kpisheet.validators.validate import validate_paths

    from kpisheet.xladdin.master.consolidate import consolidate

    folder.mkdir(parents=True, exist_ok=True)
    inbox = list(corpus.files)  # the corpus's own files: its folder may hold a larger corpus's too
    roster = list(corpus.roster)
    task = progress.add_task(f"汇总 vs 校验 consolidate vs validate（{len(corpus.files)} 个文件 files × {repeats}）",
                             total=repeats)
    masters: list[Path] = []

    def whole() -> float:
        # each round into an empty record of its own: the figure is a first consolidation
        master = folder / f"master_{len(masters)}" / "master.xlsx"
        master.parent.mkdir(parents=True, exist_ok=True)
        for old in master.parent.iterdir():
            old.unlink() if old.is_file() else shutil.rmtree(old)
        masters.append(master)
        took = _clock(lambda: consolidate(inbox, master, rulebook=rulebook, roster=roster, period=PERIOD))
        progress.advance(task)
        return took

    def alone() -> float:
        return _clock(lambda: validate_paths(inbox, rulebook=rulebook, roster=roster, period=PERIOD))

    _paired("consolidate_vs_validate", results, repeats, whole, alone, lambda a, b: a / b)
    return masters[-1]


def changed_copy(source: Path, target: Path, stamp: str) -> None:
    """``source`` saved again later: the same cells, a new docProps modified time (so a new SHA-256)."""
    import re
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            new.writestr(info, data)


def _reconsolidate(results: BenchResults, corpus: Corpus, rulebook: Rulebook, folder: Path, repeats: int,
                   progress: Progress) -> None:
    """Re-consolidation after one file of the inbox changed, against the first consolidation of that inbox."""
    from kpisheet.xladdin.master.consolidate import consolidate

    roster = list(corpus.roster)
    task = progress.add_task(f"改一个文件后重新汇总 re-consolidate one changed file（× {repeats}）", total=repeats)
    pairs = []
    for r in range(repeats):
        work = folder / f"reconsolidate_{r}"
        if work.exists():
            shutil.rmtree(work)
        inbox = work / "inbox"
        inbox.mkdir(parents=True)
        for path in corpus.files:
            os.link(path, inbox / path.name)  # the same files, no copying
        master = work / "master.xlsx"
        full = _clock(lambda: consolidate([inbox], master, rulebook=rulebook, roster=roster, period=PERIOD))
        victim = inbox / corpus.files[r * 7 % len(corpus.files)].name
        victim.unlink()
        changed_copy(corpus.files[r * 7 % len(corpus.files)], victim, f"2099-01-0{r + 1}T09:00:00Z")
        one = _clock(lambda: consolidate([inbox], master, rulebook=rulebook, roster=roster, period=PERIOD))
        pairs.append([one, full])
        progress.advance(task)
        shutil.rmtree(work, ignore_errors=True)
    results.pairs["reconsolidate_one_vs_full"] = [[round(a, 4), round(b, 4)] for a, b in pairs]
    results.ratios["reconsolidate_one_vs_full"] = round(statistics.median(a / b for a, b in pairs), 3)


# --- the master writer vs bare xlsxwriter ---------------------------------------------------------

def master_data_with_rows(master: Path, rulebook: Rulebook, rows: int):
    """A master of ``rows`` 总表 rows (the consolidated master's real rows, repeated with new IDs); the
    other sheets empty, so the figure is about rows, not about what else a master may hold."""
    from kpisheet.xladdin.master import layout as L
    from kpisheet.xladdin.master.io import read_master

    data = read_master(master, rulebook)
    real = data.rows(L.SUMMARY)
    if not real:
        raise BenchError("汇总表中没有员工记录，无法测量写表", "the master holds no employee row to grow")
    grown = []
    for i in range(rows):
        row = dict(real[i % len(real)])
        if i >= len(real):
            row["employee_id"] = f"{row['employee_id']}-{i // len(real)}"
        grown.append(row)
    return L.MasterData(sheets={L.SUMMARY: grown}, meta=data.meta, extra_headers={})


def bare_xlsxwriter(path: Path, tables, rulebook: Rulebook) -> None:
    """The floor: the same cells written by xlsxwriter in streaming mode, no formats, widths or charts;
    with the cells of 打印 too (its section headings and each employee's print columns), which the master
    writer draws from 总表's rows."""
    import xlsxwriter

    from kpisheet.xladdin.master import layout as L
    from kpisheet.xladdin.master.printout import print_columns, print_values, sections

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False})
    for table in tables:
        sheet = book.add_worksheet(table.name)
        keys = [c.key for c in table.columns] + list(table.extra_headers)
        sheet.write_row(0, 0, [c.header for c in table.columns] + list(table.extra_headers))
        for r, row in enumerate(table.rows, start=1):
            sheet.write_row(r, 0, [row.get(key) for key in keys])
        if table.name == L.SUMMARY:
            columns = print_columns(rulebook)
            sheet = book.add_worksheet(L.PRINT)
            sheet.write_row(0, 0, [c.header for c in columns])
            r = 1
            for part in sections(table.rows, rulebook):
                sheet.write_string(r, 0, part.heading)
                for r, line in enumerate(part.rows, start=r + 1):
                    sheet.write_row(r, 0, print_values(line, columns))
                r += 1
    book.close()


def _master_write(results: BenchResults, master: Path, rulebook: Rulebook, folder: Path, rows: int, repeats: int,
                  progress: Progress) -> None:
    from kpisheet.xladdin.master.io import master_tables, write_master

    data = master_data_with_rows(master, rulebook, rows)
    tables = master_tables(data, rulebook)   # the bare side gets its rows ready-made
    now = dt.datetime.now().replace(microsecond=0)
    task = progress.add_task(f"写 {rows} 行汇总表 master write vs xlsxwriter（× {repeats}）", total=repeats)

    def ours() -> float:
        took = _clock(lambda: write_master(folder / "big_master.xlsx", data, rulebook, now=now))
        progress.advance(task)
        return took

    def bare() -> float:
        return _clock(lambda: bare_xlsxwriter(folder / "big_bare.xlsx", tables, rulebook))

    _paired("master_write_vs_xlsxwriter", results, repeats, ours, bare, lambda a, b: a / b)
    results.medians_ms["master_write"] = round(statistics.median(a for a, _ in results.pairs[
        "master_write_vs_xlsxwriter"]) * 1000, 1)
    results.medians_ms["bare_xlsxwriter_write"] = round(statistics.median(b for _, b in results.pairs[
        "master_write_vs_xlsxwriter"]) * 1000, 1)
    results.corpus["master_rows"] = rows


# --- scale: memory and time at 1x and SCALE x the files ---------------------------------------------

def _scale(results: BenchResults, whole: Corpus, teams: int, folder: Path, progress: Progress) -> None:
    """Validate and consolidate the corpus's first ``teams`` files and all of them, each in a fresh process
    (a company of that many teams, with its roster): peak memory of the whole process tree and seconds."""
    sizes = sorted({teams, len(whole.files)})
    task = progress.add_task("规模 scale: 内存与耗时 memory and time", total=2 * len(sizes))
    for mode in ("validate", "consolidate"):
        for n in sizes:
            with _loaded(results, f"{mode}_{n}"):
                tree, main, seconds = measure_child(whole.folder, len(whole.files), n, mode, folder / MASTERS_DIR)
            results.peak_rss_mb[f"{mode}_{n}"] = tree
            results.peak_rss_mb[f"{mode}_{n}_main_process"] = main
            results.scale[f"{mode}_{n}_seconds"] = seconds
            progress.advance(task)
    results.scale.update(files=sizes, employees=[len(whole.first(n).roster) for n in sizes])
    if len(sizes) < 2:
        return
    small, big = sizes
    for mode in ("validate", "consolidate"):
        name = f"{mode}_memory_growth"
        results.ratios[name] = round(results.peak_rss_mb[f"{mode}_{big}"] / results.peak_rss_mb[f"{mode}_{small}"], 3)
        results.load[name] = [results.load[f"{mode}_{small}"][0], results.load[f"{mode}_{big}"][1]]


def measure_child(corpus_folder: Path, teams: int, files: int, mode: str, work: Path) -> tuple[float, float, float]:
    """(peak MB of the whole process tree, peak MB of the main process, seconds of the validation or
    consolidation itself) of a fresh ``mode`` run on the first ``files`` files of the corpus."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"{mode}_{files}.json"
    out.unlink(missing_ok=True)
    tree, main = peak_rss_of([sys.executable, "-m", "kpisheet.xladdin.demo.bench", "child", mode, str(corpus_folder),
                              str(teams), str(files), str(work), str(out)])
    return tree, main, json.loads(out.read_text(encoding="utf-8"))["seconds"]


def peak_rss_of(command: list[str]) -> tuple[float, float]:
    """Run ``command`` and sample its resident memory every RSS_INTERVAL s: (peak MB of the whole process
    tree, main process and its workers summed; peak MB of the main process alone). A failing run is a
    BenchError with the end of its stderr."""
    import psutil

    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(child.pid)
    tree_peak = main_peak = 0
    while child.poll() is None:
        try:
            main = root.memory_info().rss
            total = main
            for proc in root.children(recursive=True):
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        tree_peak, main_peak = max(tree_peak, total), max(main_peak, main)
        time.sleep(RSS_INTERVAL)
    _, stderr = child.communicate()
    if child.returncode != 0:
        raise BenchError(f"内存测量子进程失败：{stderr.decode(errors='replace')[-400:]}",
                         f"the memory-measuring run failed: {stderr.decode(errors='replace')[-400:]}")
    return round(tree_peak / 2**20, 1), round(main_peak / 2**20, 1)


def _child(mode: str, corpus_folder: str, teams: str, files: str, work: str, out: str) -> None:
    """The run whose memory is measured: validate or consolidate the first ``files`` files of the corpus
    with their teams' roster; the seconds it took (without starting Python) go to ``out`` as JSON."""
    from kpisheet.validators.rulebook.load import default_rulebook
    from kpisheet.validators.validate import validate_paths

    from kpisheet.xladdin.master.consolidate import consolidate

    rulebook = default_rulebook()
    corpus = make_corpus(Path(corpus_folder), int(teams), rulebook).first(int(files))
    if mode == "validate":
        def run() -> None:
            # as the validate command runs it: the reports it prints, without the indicator lines
            validate_paths(corpus.files, rulebook=rulebook, roster=corpus.roster, period=PERIOD,
                           indicator_lines=False)
    else:
        home = Path(work) / f"rss_{files}"  # a master and an empty record of its own
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)

        def run() -> None:
            consolidate(corpus.files, home / "master.xlsx", rulebook=rulebook, roster=corpus.roster, period=PERIOD)
    Path(out).write_text(json.dumps({"seconds": round(_clock(run), 3)}), encoding="utf-8")


# --- the machine --------------------------------------------------------------------------------

def machine_info() -> dict:
    from importlib import metadata

    import psutil

    versions = {}
    for name in ("python-calamine", "openpyxl", "xlsxwriter", "pebble", "pydantic", "psutil"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"nproc": os.cpu_count(), "cpu": _cpu_model(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "libraries": versions,
            "libreoffice": _libreoffice_version(), "date": dt.datetime.now().replace(microsecond=0).isoformat()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _libreoffice_version() -> str | None:
    from kpisheet.xladdin.kit.libreoffice import find_soffice

    soffice = find_soffice()
    if soffice is None:
        return None
    try:
        done = subprocess.run([soffice, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --- output ---------------------------------------------------------------------------------------

_RATIO_LABELS = {
    "validate_vs_calamine": "校验 / calamine 读取 validation / bare calamine read",
    "openpyxl_vs_validate": "openpyxl 脚本 / kpisheet 校验 naive openpyxl / kpisheet",
    "workers2_speedup": "1 进程 / 2 进程 1 worker / 2 workers",
    "consolidate_vs_validate": "汇总 / 仅校验 consolidation / validation alone",
    "reconsolidate_one_vs_full": "改一个文件后重新汇总 / 首次汇总 re-consolidation, one file changed / first run",
    "master_write_vs_xlsxwriter": "写汇总表 / 裸 xlsxwriter master writer / bare xlsxwriter",
    "validate_vs_calamine_whole_file": "校验 / calamine 读整个文件 validation / calamine reading every sheet",
    "validate_file_vs_calamine": "单文件接口 / calamine 读取 validate_file (single-file API) / calamine read",
    "validate_vs_inflate_floor": "校验 / 仅解压所读工作表 validation / zlib inflate of the sheets read (the floor)",
    "validate_memory_growth": "校验峰值内存：大规模 / 小规模 validation's peak memory, larger run / smaller",
    "consolidate_memory_growth": "汇总峰值内存：大规模 / 小规模 consolidation's peak memory, larger run / smaller",
}


def print_results(console: Console, results: BenchResults) -> None:
    m = results.machine
    console.print(Text(f"{results.teams} 个团队 teams，{results.corpus['employees']} 人 employees；"
                       f"文件由 {results.corpus['saved_by']} 保存 saved by；"
                       f"{m['nproc']} 核 cores，{m['cpu']}，{m['ram_gb']} GB；Python {m['python']}；"
                       f"负载 load {m.get('load_average_start')} → {m.get('load_average_end')}"))
    table = Table(title="比值（配对测量的中位数）Ratios, medians of paired runs", title_justify="left")
    for head in ("项目 Figure", "比值 Ratio", "目标 Goal", "达标 Met", "负载 Load", "各次 Pairs (s)"):
        table.add_column(head)
    goals = results.goals()
    for name, value in results.ratios.items():
        goal = goals.get(name, {"goal": "（参考 for reference）", "met": None})
        met = {True: Text("✓", style="green"), False: Text("✗", style="red"), None: Text("—")}[goal["met"]]
        pairs = "; ".join(f"{a:.3g}/{b:.3g}" for a, b in results.pairs.get(name, []))
        load = _load_of(results, name)
        table.add_row(Text(f"{name}\n{_RATIO_LABELS.get(name, '')}"), f"{value}", goal["goal"], met, Text(load),
                      Text(pairs))
    console.print(table)
    if results.worker_attempts:
        attempts = "; ".join(f"{one:.3g}/{two:.3g} (others {others:.2f} cores, load {load}{'' if kept else ', redone'})"
                             for one, two, others, load, kept in results.worker_attempts)
        console.print(Text(f"1/2 进程各次 worker pairs: {attempts}"))
    medians = Table(title="中位耗时 Median times (ms)", title_justify="left")
    medians.add_column("项目 What")
    medians.add_column("ms", justify="right")
    for name, value in results.medians_ms.items():
        medians.add_row(name, f"{value}")
    console.print(medians)
    console.print(_scale_table(results))
    for note in results.notes:
        console.print(Text(f"• {note}", style="yellow"))


def _scale_table(results: BenchResults) -> Table:
    """Each scale run: its files and people, seconds, and peak memory of the process tree and main process."""
    figures = results.scale_figures()
    table = Table(title="规模：新进程中的耗时与峰值内存 Scale: each run in a fresh process (MB: peak RSS)",
                  title_justify="left")
    for head in ("运行 Run", "文件 Files", "人 People", "秒 Seconds", "进程树 Tree MB", "主进程 Main MB", "负载 Load"):
        table.add_column(head, justify="left" if head.startswith("运行") else "right")
    for mode in ("validate", "consolidate"):
        for n, people in zip(figures.get("files", []), figures.get("employees", [])):
            load = results.load.get(f"{mode}_{n}")
            table.add_row(mode, f"{n}", f"{people}", f"{figures.get(f'{mode}_{n}_seconds')}",
                          f"{results.peak_rss_mb.get(f'{mode}_{n}')}", f"{results.peak_rss_mb.get(f'{mode}_{n}_main_process')}",
                          f"{load[0]}→{load[1]}" if load else "")
    if "end_to_end_met" in figures:
        met = "✓" if figures["end_to_end_met"] else "✗"
        table.caption = (f"{met} {figures['files'][-1]} 个文件的汇总（含校验）目标 ≤ {SCALE_GOAL_SECONDS} 秒 / "
                         f"consolidation of {figures['files'][-1]} files, validation included: goal ≤ {SCALE_GOAL_SECONDS} s")
    return table


# ratios measured within another figure's run
_FIGURE_OF = {"validate_vs_calamine_whole_file": "validate_vs_calamine",
              "validate_file_vs_calamine": "validate_vs_calamine",
              "validate_vs_inflate_floor": "validate_vs_calamine"}


def _load_of(results: BenchResults, ratio: str) -> str:
    """'1.02→1.31': the 1-minute load average while the figure behind ``ratio`` was measured ('' if not recorded)."""
    span = results.load.get(_FIGURE_OF.get(ratio, ratio))
    return f"{span[0]}→{span[1]}" if span else ""


def write_json(results: BenchResults, path: Path) -> None:
    path.write_text(json.dumps(results.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__" and len(sys.argv) == 8 and sys.argv[1] == "child":
    _child(*sys.argv[2:])
