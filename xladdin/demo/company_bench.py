"""`kpisheet bench --company`: a whole company's inbox end to end, at two sizes, with the peak memory of each.

    results = run_company_bench(100_000)

The workbooks are the company corpus (:mod:`kpisheet.xladdin.demo.company_corpus`: about
``employees / 12`` team submissions across the company's departments, kept in the work folder
and reused by the next run of the same size and rules). Each size runs in a fresh process, as
HR's one ``kpisheet consolidate`` would, whose whole process tree (main process and validation
workers) is sampled for its resident memory (:func:`~kpisheet.xladdin.demo.bench.peak_rss_of`).
That process:

1. validates every file, each by the rules of its department (routed by the department its
   ``_meta`` names), with the corpus's roster and the period: ``validate``, from the start of the
   consolidation until the last file's report is in (it includes hashing the files and asking the
   record which it has seen);
2. records them into an empty record (SQLite) and writes the period's master: ``record_and_master``,
   the rest of the same consolidation (cross-file checks, the record's transaction, the master);
3. writes the period's master again from the record alone (``kpisheet master rebuild``):
   ``master``, so the record's share of step 2 can be told from the master's.

``end_to_end`` is steps 1 and 2: one consolidation of the whole inbox. The smaller size is
every ``SMALLER``-th file of the same corpus with the roster of those teams, so the two runs
differ only in how many files (and people) there are.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpisheet.validators.rulebook.company import Company

from kpisheet.xladdin.demo.bench import BenchError, foreign_corpus_folder, load_average, machine_info, peak_rss_of
from kpisheet.xladdin.demo.bench_corpus import PERIOD
from kpisheet.xladdin.demo.cycle import sample_company
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.progress import progress_bar

CORPUS_DIR = "kpisheet-company-corpus"   # inside --work: the corpus, kept for the next run of the same size
RUNS_DIR = "kpisheet-company-runs"       # inside --work: each size's record and master
SMALLER = 8                              # the smaller run: every 8th file
GOAL_SECONDS = 300                       # issue 17: under 5 minutes end to end on this 2-core machine
STEPS = ("validate", "record_and_master", "end_to_end", "master")
STEP_LABELS = {
    "validate": "校验全部文件（按部门规则）validate every file by its department's rules",
    "record_and_master": "写入记录并生成汇总表 record them and write the master",
    "end_to_end": "端到端（一次汇总）end to end (one consolidation)",
    "master": "仅由记录重写本期汇总表 the period's master again, from the record alone",
}


@dataclass
class CompanyBenchResults:
    employees: int            # as asked; the corpus has about as many
    rules: str
    corpus: dict
    corpus_seconds: float     # making the corpus (0-ish when an earlier run's was reused)
    corpus_reused: bool
    machine: dict
    runs: list[dict] = field(default_factory=list)   # one per size, the larger first

    def memory_ratio(self) -> float | None:
        """Peak memory of the whole process tree, larger run / smaller run (1.0: independent of the files)."""
        if len(self.runs) < 2 or not self.runs[-1]["peak_rss_mb"]["tree"]:
            return None
        return round(self.runs[0]["peak_rss_mb"]["tree"] / self.runs[-1]["peak_rss_mb"]["tree"], 3)

    def to_dict(self) -> dict:
        largest = self.runs[0] if self.runs else None
        return {"employees_asked": self.employees, "rules": self.rules, "corpus": self.corpus,
                "corpus_seconds": self.corpus_seconds, "corpus_reused": self.corpus_reused, "machine": self.machine,
                "runs": self.runs, "memory_growth": self.memory_ratio(),
                "goal": {"end_to_end_seconds": f"< {GOAL_SECONDS}",
                         "met": None if largest is None else largest["seconds"]["end_to_end"] < GOAL_SECONDS}}


def load_rules(rules: Path | None) -> Company:
    """The company's rulebooks at ``rules``, else the example company's (samples/company)."""
    from kpisheet.xladdin.kit.inputs import load_company_option

    source = rules if rules is not None else sample_company()
    if rules is None and not (source / "company.yaml").is_file():
        raise BenchError(f"找不到示例公司的规则表 {source}：请用 --rules 指定公司规则表",
                         f"the example company's rulebooks are not at {source}: give the company's with --rules")
    return load_company_option(source)


def run_company_bench(employees: int, *, rules: Path | None = None, work: Path | None = None,
                      console: Console | None = None) -> CompanyBenchResults:
    """Make (or reuse) the corpus for about ``employees`` people and measure the whole inbox and every
    ``SMALLER``-th file of it, each in a fresh process."""
    from kpisheet.xladdin.demo.bench_corpus import CorpusFolderError
    from kpisheet.xladdin.demo.company_corpus import make_company_corpus

    console = console or make_console(stderr=True)
    company = load_rules(rules)
    source = str(rules if rules is not None else sample_company())
    temporary = work is None
    folder = Path(tempfile.mkdtemp(prefix="kpisheet-company-bench-")) if temporary else Path(work)
    try:
        with progress_bar(console) as progress:
            tasks: dict[str, int] = {}
            labels = {"bases": "生成并填写各部门基准考核表 base workbooks per department",
                      "copies": f"复制为约 {employees} 人的团队 copies as teams"}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(labels.get(stage, stage), total=total)
                progress.update(tasks[stage], completed=done)

            started = time.perf_counter()
            try:
                corpus = make_company_corpus(folder / CORPUS_DIR, employees, company, progress=report)
            except CorpusFolderError as error:
                raise foreign_corpus_folder(error.folder) from None
            corpus_seconds = round(time.perf_counter() - started, 1)
            results = CompanyBenchResults(employees, source, corpus.to_dict(), corpus_seconds,
                                          corpus_reused="bases" not in tasks, machine=machine_info())
            sizes = [1, SMALLER] if len(corpus.files) >= 2 * SMALLER else [1]
            task = progress.add_task("公司汇总（每个规模一个新进程）company runs, a fresh process each", total=len(sizes))
            for step in sizes:
                results.runs.append(_measured_run(corpus.folder, employees, rules, step, folder / RUNS_DIR))
                progress.advance(task)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    return results


def _measured_run(corpus_folder: Path, employees: int, rules: Path | None, step: int, runs: Path) -> dict:
    """One size in a fresh process: its steps' seconds (written by the child), peak memory and load around it."""
    home = runs / f"every_{step}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    out = home / "figures.json"
    load_before = load_average()
    tree, main = peak_rss_of([sys.executable, "-m", "kpisheet.xladdin.demo.company_bench", "child",
                              str(corpus_folder), str(employees), str(rules) if rules is not None else "-", str(step),
                              str(home), str(out)])
    figures = json.loads(out.read_text(encoding="utf-8"))
    figures["peak_rss_mb"] = {"tree": tree, "main_process": main}
    figures["load"] = [load_before[0] if load_before else None, (load_average() or [None])[0]]
    return figures


def _child(corpus_folder: str, employees: str, rules: str, step: str, home: str, out: str) -> None:
    """The measured run: every ``step``-th file of the corpus consolidated into an empty record, then the
    period's master written again from the record; the seconds go to ``out`` as JSON."""
    from kpisheet.xladdin.demo.company_corpus import make_company_corpus
    from kpisheet.xladdin.master.consolidate import ScopeChoice, consolidate, rebuild_master

    company = load_rules(None if rules == "-" else Path(rules))
    corpus = make_company_corpus(Path(corpus_folder), int(employees), company)  # reused: made by the parent
    files = corpus.files[::int(step)]
    teams = {team_of(path) for path in files}
    roster = [p for p in corpus.roster if p.team in teams]
    master = Path(home) / "master.xlsx"
    scope = ScopeChoice(periods=(PERIOD,))
    validated = {}

    def progress(done: int, total: int) -> None:
        if done == total:
            validated["at"] = time.perf_counter()

    started = time.perf_counter()
    result = consolidate(files, master, rulebook=company, roster=roster, period=PERIOD, progress=progress,
                         scope=scope)
    consolidated = time.perf_counter()
    rebuild_master(master, company.whole, scope=scope)
    rebuilt = time.perf_counter()
    validated_at = validated.get("at", started)
    counts = result.to_dict()["counts"]
    departments: dict[str, int] = {}
    for path in files:
        departments[department_of(path)] = departments.get(department_of(path), 0) + 1
    Path(out).write_text(json.dumps({
        "step": int(step), "files": len(files), "employees": len(roster), "departments": departments,
        "files_accepted": counts.get("files_accepted", 0), "files_rejected": counts.get("files_rejected", 0),
        "master": str(master), "store": result.store,
        "seconds": {"validate": round(validated_at - started, 2),
                    "record_and_master": round(consolidated - validated_at, 2),
                    "end_to_end": round(consolidated - started, 2),
                    "master": round(rebuilt - consolidated, 2)},
    }, ensure_ascii=False), encoding="utf-8")


def _name_parts(path: Path) -> list[str]:
    """The corpus's file names are PERIOD_department_team.xlsx (make_company_corpus)."""
    return path.stem.split("_", 2)


def team_of(path: Path) -> str:
    return _name_parts(path)[2]


def department_of(path: Path) -> str:
    return _name_parts(path)[1]


def write_company_json(results: CompanyBenchResults, path: Path) -> None:
    """The figures as JSON, under a ``company`` key (the one-department bench's figures have keys of their own)."""
    from kpisheet import __version__

    path.write_text(json.dumps({"kpisheet": __version__, "company": results.to_dict()}, ensure_ascii=False, indent=2)
                    + "\n", encoding="utf-8")


# --- output ---------------------------------------------------------------------------------------

def print_company_results(console: Console, results: CompanyBenchResults) -> None:
    m = results.machine
    corpus = results.corpus
    made = "沿用上次生成的 reused" if results.corpus_reused else "新生成 made"
    console.print(Text(f"公司规则表 company rules: {results.rules}；{corpus['teams']} 个团队考核表 team workbooks，"
                       f"{corpus['employees']} 人 employees，文件由 {corpus['saved_by']} 保存 saved by；"
                       f"语料 corpus {made} in {results.corpus_seconds} s；"
                       f"{m['nproc']} 核 cores，{m['cpu']}，{m['ram_gb']} GB；Python {m['python']}"))
    table = Table(title=f"公司汇总端到端 Company consolidation end to end（期间 period {PERIOD}；"
                        f"目标 goal < {GOAL_SECONDS} s）", title_justify="left")
    table.add_column("步骤 Step")
    for run in results.runs:
        table.add_column(f"{run['files']} 个文件 files\n{run['employees']} 人 employees", justify="right")
    for step in STEPS:
        table.add_row(Text(f"{step}\n{STEP_LABELS[step]}"), *(f"{run['seconds'][step]:.1f} s" for run in results.runs))
    table.add_row(Text("接受 / 拒绝 accepted / rejected"),
                  *(f"{run['files_accepted']} / {run['files_rejected']}" for run in results.runs))
    table.add_row(Text("峰值内存（进程树合计）peak RSS, whole process tree"),
                  *(f"{run['peak_rss_mb']['tree']:.0f} MB" for run in results.runs))
    table.add_row(Text("主进程峰值 peak RSS, main process"),
                  *(f"{run['peak_rss_mb']['main_process']:.0f} MB" for run in results.runs))
    table.add_row(Text("负载 1-min load before → after"),
                  *(f"{run['load'][0]} → {run['load'][1]}" for run in results.runs))
    table.add_row(Text("各部门文件 files per department"),
                  *("\n".join(f"{d} {n}" for d, n in run["departments"].items()) for run in results.runs))
    console.print(table)
    growth = results.memory_ratio()
    if growth is not None:
        small, large = results.runs[-1], results.runs[0]
        console.print(Text(f"内存增长 memory growth: {large['files'] / small['files']:.1f}× 文件 the files → "
                           f"{growth}× 峰值内存 peak memory"))
    goal = results.to_dict()["goal"]["met"]
    if goal is not None:
        console.print(Text(f"端到端 {results.runs[0]['seconds']['end_to_end']:.1f} s："
                           + ("✓ 达到 5 分钟目标 within the 5-minute goal" if goal else "✗ 超过 5 分钟目标 over the 5-minute goal"),
                           style="green" if goal else "red"))


if __name__ == "__main__" and len(sys.argv) == 8 and sys.argv[1] == "child":
    _child(*sys.argv[2:])
