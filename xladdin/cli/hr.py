"""HR's period-end commands on the master: `calibrate`, `rollup`, `appeals`, `notices`.

Every command reads and writes the master through the consolidation service's
safe path (lock, temp file, atomic rename, backups) and writes only when
something changed. Appeal deadlines and flags in 申诉 are refreshed by
`appeals` and also by every `calibrate` and `notices` run; `notices` records
the period's publication date (the start of the appeal clock) in the master.

Exit codes: 0 done; 1 done, but HR must look at something (calibrate: an HR
override refused for want of a reason, or a quota HR's decisions alone break);
2 usage or I/O failure (no master, master open or busy, bad option): the
master is then untouched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpisheet.xladdin.kit.files import make_output_folder
from kpisheet.validators.errors import EXIT_FINDINGS, UsageError
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.inputs import date_option, load_company_inputs
from kpisheet.xladdin.kit.progress import progress_bar
from kpisheet.xladdin.kit.user import current_user
from kpisheet.xladdin.cli.record_options import discard_option, incomplete_option, store_option, year_option
from kpisheet.xladdin.master.consolidate import ScopeChoice, update_master
from kpisheet.xladdin.master.layout import APPEALS

EXIT_ATTENTION = EXIT_FINDINGS


@dataclass(frozen=True)
class RecordArgs:
    """The cycle-record options every HR command takes."""

    store: str | None = None
    year: int | None = None
    allow_incomplete: bool = False
    discard_foreign: bool = False

    def scope(self, period: str | None = None) -> ScopeChoice:
        if self.year is None and period:
            from kpisheet.validators.policy.periods import parse_period

            return ScopeChoice(year=parse_period(period).year)
        return ScopeChoice(year=self.year)


def _update(master: Path, rulebook, change, args: RecordArgs, *, period: str | None = None, step: str = "",
            year: int | None = None, state: str | None = None):
    """``change`` on the master's view, refusing incomplete periods for the steps that need them."""
    from kpisheet.xladdin.master.completeness import require_complete
    from kpisheet.xladdin.master.write_back import advance_period

    chosen: list[str] = []

    def check(tx, view):
        periods = [period] if period else [p for p in view.scope.periods if p in {
            r.get("period") for r in view.data.rows("总表")}]
        chosen.extend(periods)
        if step:
            require_complete(tx, periods, allow=args.allow_incomplete, step=step, year=year, rulebook=rulebook)

    def after(tx, _outcome):
        if state:
            advance_period(tx, chosen, state)

    return update_master(master, rulebook, change, store=args.store, scope=args.scope(period),
                         discard_foreign=args.discard_foreign, check=check, after=after)


def _check_master(master: Path, store: str | None = None) -> None:
    if store is None and not master.is_file() and not (master.resolve().parent / "kpisheet.db").is_file():
        raise UsageError(f"找不到汇总表 {master}：请先运行 kpisheet consolidate 生成汇总表，或检查 --master 路径",
                         f"no master at {master}: run kpisheet consolidate first, or check --master")


def _written(console: Console, master: Path, changed: bool, backup: Path | None, log_rows: int) -> None:
    if changed:
        where = f"；备份 backup: {backup}" if backup else ""
        console.print(Text(f"✓ 已写入汇总表 master written: {master}（日志 {log_rows} 行 / {log_rows} log rows）{where}",
                           style="green"))
    else:
        console.print(Text(f"✓ 无变化，未改写汇总表 / nothing changed, master left as it was: {master}", style="green"))


def _print_appeals(console: Console, outcome) -> None:
    if not (outcome.late_filings or outcome.overdue or outcome.notes):
        return
    table = Table(title="申诉提示 Appeals needing attention (见“申诉”工作表 / see sheet 申诉)", title_justify="left")
    table.add_column("期间/工号 Period/ID")
    table.add_column("提示 Note", overflow="fold")
    for label in outcome.late_filings:
        table.add_row(label, "逾期申诉 filed after the deadline")
    for line in outcome.overdue + outcome.notes:
        label, _, note = line.partition(": ")
        table.add_row(label, Text(note))
    console.print(table)


# --- calibrate --------------------------------------------------------------

def _print_calibration(console: Console, outcome, rulebook) -> None:
    grades = [band.grade for band in sorted(rulebook.grades, key=lambda b: b.min, reverse=True)]
    if outcome.changes:
        table = Table(title=f"校准等级变更 Calibration changes（{len(outcome.changes)}）", title_justify="left")
        for head in ("期间 Period", "部门 Dept", "团队 Team", "工号 ID", "姓名 Name", "系统 System", "原校准 Was",
                     "新校准 Now"):
            table.add_column(head)
        table.add_column("原因 Reason", overflow="fold", max_width=70)
        for c in outcome.changes:
            table.add_row(c.period, c.department, c.team, c.employee_id, c.name, c.system_grade or "",
                          c.old or "—", c.new or "—（系统等级 system）", Text(c.reason))
        console.print(table)
    else:
        console.print(Text("校准等级无需变更 / no calibration change", style="green"))

    quotas = Table(title="分布与配额 Distribution vs quotas（校准后，仅参与分布人员 / after calibration, eligible only）",
                   title_justify="left")
    for head in ("期间 Period", "部门 Dept", "组 Group", "人数 N"):
        quotas.add_column(head)
    for grade in grades:
        quotas.add_column(grade, justify="right")
    quotas.add_column(f"{grades[0]} 上限 max", justify="right")
    quotas.add_column(f"{'+'.join(grades[:2])} 上限 max", justify="right")
    quotas.add_column("HR 决定 HR decisions", justify="right")
    for dept in outcome.departments:
        for group in dept.result.groups:
            name = group.name if group.kind == "team" else f"{group.name}（部门 department）"
            quotas.add_row(dept.period, dept.department, name, str(group.headcount),
                           *(str(group.counts.get(g, 0)) for g in grades), str(group.s_limit),
                           "—" if group.sa_limit is None else str(group.sa_limit),
                           str(dept.hr_decisions) if group.kind != "team" else "")
    console.print(quotas)

    def who(dept, note) -> str:
        return f"{dept.period} {dept.department}" + (f" 工号 {note.employee_id}" if note.employee_id else "")

    notes = [(who(d, n), n.message_zh, n.message_en, "red") for d in outcome.departments for n in d.result.problems]
    notes += [(who(d, n), n.message_zh, n.message_en, "yellow")
              for d in outcome.departments for n in d.result.warnings]
    notes += [(f"{d.period} {d.department}", t.message_zh, t.message_en, "cyan")
              for d in outcome.departments for t in d.result.ties]
    for where, zh, en, style in notes:
        console.print(Text(f"• [{where}] {zh} / {en}", style=style))
    if any(n.code == "calibration-override-reason" for d in outcome.departments for n in d.result.problems):
        # a grade without its reason is pending: say what that means for the employee
        console.print(Text("  上述无理由的校准等级为待定：不计入名额、不作为最终等级（按系统等级），该员工的通知书暂不生成，"
                           "直到补写理由或清空 / a grade without a reason is pending: it is not counted, not the final "
                           "grade (the system grade stands) and stops the employee's notice until HR adds the reason "
                           "or clears it", style="red"))
    if outcome.ineligible:
        table = Table(title=f"不参与强制分布 Not in the distribution（{len(outcome.ineligible)}）", title_justify="left")
        for head in ("期间 Period", "工号 ID", "姓名 Name"):
            table.add_column(head)
        table.add_column("原因 Why", overflow="fold")
        for period, pid, name, why in outcome.ineligible:
            table.add_row(period, pid, name, Text(why))
        console.print(table)
    if outcome.unknown_periods:
        console.print(Text(f"• 无法识别的考核期间，未校准 / unrecognised periods, not calibrated: "
                           f"{', '.join(outcome.unknown_periods)}", style="yellow"))


def _view_inputs(rules: Path | None, roster: Path | None, period: str | None):
    """(the rules the master shows, roster people or None, period): one rulebook, or a company's view, whose
    departments keep their own quotas and months in post (calibration pools each by its own rules)."""
    company, people, period = load_company_inputs(rules, roster, period)
    return company.whole, people, period


def _calibrate(master: Path, rules: Path | None, roster: Path | None, department: str | None,
               period: str | None, today: str | None, args: RecordArgs = RecordArgs()) -> None:
    from kpisheet.xladdin.master.apply_calibration import calibrate_master

    _check_master(master, args.store)
    rulebook, people, period = _view_inputs(rules, roster, period)
    on = date_option(today, "--today")
    by_id = {p.employee_id: p for p in people} if people else None
    user = current_user()
    outcome, backup = _update(master, rulebook, lambda data: calibrate_master(
        data, rulebook, now=dt.datetime.now(), roster=by_id, department=department, period=period, today=on,
        user=user), args, period=period, step="calibrate", state="calibrated")
    console = make_console()
    if not outcome.departments:
        console.print(Text("✗ 汇总表中没有符合条件的记录 / no rows in the master match --period/--department",
                           style="yellow"))
    _print_calibration(console, outcome, rulebook)
    _written(console, master, outcome.changed, backup, len(outcome.log_rows))
    attention = any(d.result.problems or any(w.code == "calibration-quota-unreachable" for w in d.result.warnings)
                    for d in outcome.departments)
    raise typer.Exit(EXIT_ATTENTION if attention else 0)


# --- rollup -------------------------------------------------------------------

def _rollup(master: Path, rules: Path | None, year: int, args: RecordArgs = RecordArgs()) -> None:
    from kpisheet.xladdin.master.rollup import LEGAL_NOTE_EN, LEGAL_NOTE_ZH, rollup_master

    _check_master(master, args.store)
    args = RecordArgs(args.store, year, args.allow_incomplete, args.discard_foreign)
    rulebook, _people, _period = _view_inputs(rules, None, None)
    user = current_user()
    outcome, backup = _update(master, rulebook,
                              lambda data: rollup_master(data, rulebook, year, now=dt.datetime.now(), user=user),
                              args, step="rollup", year=year)
    console = make_console()
    console.print(Text(f"年度汇总 {year}：{outcome.employees} 人 / annual roll-up {year}: {outcome.employees} employees"))
    for title, lines in ((f"连续{rulebook.outcomes.consecutive_d_review}期及以上最低等级 Consecutive lowest grade",
                          outcome.flagged_d), ("绩效改进计划 PIP", outcome.pip)):
        if not lines:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("员工 Employee")
        table.add_column("期间 Periods", overflow="fold")
        for line in lines:
            who, _, periods = line.partition(": ")
            table.add_row(who, periods)
        console.print(table)
    console.print(Text(f"注意 Note：{LEGAL_NOTE_ZH} / {LEGAL_NOTE_EN}", style="bold yellow"))
    _written(console, master, outcome.changed, backup, len(outcome.log_rows))
    raise typer.Exit(0)


# --- appeals ------------------------------------------------------------------

def _appeals(master: Path, rules: Path | None, period: str | None, published: str | None,
             today: str | None, args: RecordArgs = RecordArgs()) -> None:
    from kpisheet.xladdin.master.appeals import refresh_appeals

    _check_master(master, args.store)
    if (period is None) != (published is None):
        raise UsageError("--period 和 --published 需同时给出", "--period and --published go together")
    rulebook, _people, period = _view_inputs(rules, None, period)
    day, on = date_option(published, "--published"), date_option(today, "--today")
    user = current_user()

    outcome, backup = _update(master, rulebook, lambda data: refresh_appeals(
        data, rulebook, now=dt.datetime.now(), today=on, user=user, publish=(period, day) if day else None), args,
        period=period)
    console = make_console()
    count = len(outcome.data.rows(APPEALS))
    console.print(Text(f"申诉 {count} 条已核算期限 / {count} appeal(s) checked"))
    _print_appeals(console, outcome)
    _written(console, master, outcome.changed, backup, len(outcome.log_rows))
    raise typer.Exit(0)


# --- notices ------------------------------------------------------------------

def _notices(master: Path, rules: Path | None, period: str, out: Path, department: str | None,
             published: str | None, pdf: bool, force: bool, args: RecordArgs = RecordArgs()) -> None:
    from kpisheet.xladdin.master.appeals import published_on, refresh_appeals
    from kpisheet.xladdin.master.notices import SHEET_NAME, build_notices, write_notices

    _check_master(master, args.store)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out 不是文件夹：{out}", f"--out is not a folder: {out}")
    rulebook, _people, period = _view_inputs(rules, None, period)
    wanted = date_option(published, "--published")
    earlier = sorted(out.glob(f"{period}_*_{SHEET_NAME}.xlsx")) if out.is_dir() else []
    if earlier and not force:  # like forms: a notice already sent out is not replaced silently
        raise UsageError(f"{out} 中已有 {len(earlier)} 份 {period} 的通知书（如 {earlier[0].name}），未覆盖",
                         f"{out} already holds {len(earlier)} notice(s) of {period} (e.g. {earlier[0].name}); "
                         "nothing was overwritten", hint_zh="确认要重新生成请加 --force",
                         hint_en="add --force to write them again")
    user = current_user()
    chosen: dict[str, dt.date] = {}

    def change(data):
        now = dt.datetime.now()
        chosen["day"] = wanted or published_on(data.meta, period) or now.date()
        return refresh_appeals(data, rulebook, now=now, user=user, publish=(period, chosen["day"]))

    outcome, backup = _update(master, rulebook, change, args, period=period, step="notices", state="published")
    notices, skipped = build_notices(outcome.data, rulebook, period, chosen["day"], department=department)
    console = make_console()
    if not notices:
        raise UsageError(f"汇总表中没有 {period} 有最终等级的员工" + (f"（部门 {department}）" if department else ""),
                    f"no employee of {period} with a final grade in the master")
    try:
        make_output_folder(out)
    except OSError as error:
        raise UsageError(f"无法创建输出文件夹 {out}：{error}", f"cannot create the output folder {out}: {error}") from None
    with progress_bar(console) as progress:
        task = progress.add_task("生成通知书 writing notices", total=len(notices))
        batch = write_notices(notices, out, rulebook, pdf=pdf,
                              progress=lambda done, total: progress.update(task, completed=done, total=total))
    failures = batch.failures
    console.print(Text(f"✓ {len(batch.workbooks)} 份通知书已写入 notices written"
                       + (f"，PDF {len(batch.pdfs)} 份 / {len(batch.pdfs)} PDFs" if pdf else "") + f": {out}",
                       style="green"))
    console.print(Text(f"结果公布日期 published {chosen['day'].isoformat()}；申诉截止 file by "
                       f"{notices[0].deadlines.file_by.isoformat()}"))
    if notices[0].deadlines.estimated:
        from kpisheet.validators.policy.workdays import estimate_note

        zh, en = estimate_note(notices[0].deadlines.estimated_years)
        console.print(Text(f"注意：{zh} / {en}", style="bold yellow"))
    if batch.pdf_skipped:
        console.print(Text("未找到 LibreOffice（soffice），已跳过 PDF；安装 LibreOffice 后重新运行即可生成 PDF / "
                           "LibreOffice (soffice) not found: PDFs skipped; install it and run again", style="yellow"))
    for row in skipped:
        if row.get("final_grade"):
            console.print(Text(f"• {row.get('employee_id')} {row.get('name') or ''}：校准等级“{row.get('calibrated_grade')}”"
                               "缺少调整理由（待定），通知书暂不生成 / a pending override without a reason: no notice "
                               "until HR resolves it", style="red"))
        else:
            console.print(Text(f"• {row.get('employee_id')} {row.get('name') or ''}：没有最终等级，未生成通知书 / "
                               f"no final grade, no notice", style="yellow"))
    for line in failures:
        console.print(Text(f"✗ {line}", style="red"))
    _print_appeals(console, outcome)
    _written(console, master, outcome.changed, backup, len(outcome.log_rows))
    pending = [row for row in skipped if row.get("final_grade")]
    raise typer.Exit(2 if failures else (EXIT_ATTENTION if pending else 0))


def register(app: typer.Typer) -> None:
    master_help = "HR 汇总表 / the HR master (.xlsx)"
    rules_help = "规则表 .yaml/.xlsx（默认内置）/ rulebook (default: built in)"

    @app.command("calibrate")
    def calibrate_command(
        master: Path = typer.Option(..., "--master", help=master_help),
        department: Optional[str] = typer.Option(None, "--department", help="只校准该部门 / this department only"),
        period: Optional[str] = typer.Option(None, "--period", help="只校准该期间（默认全部）/ this period only"),
        rules: Optional[Path] = typer.Option(None, "--rules", help=rules_help),
        roster: Optional[Path] = typer.Option(None, "--roster",
                                              help="花名册：试用、长假、在岗月数 / roster for eligibility"),
        today: Optional[str] = typer.Option(None, "--today", help="申诉逾期按此日判断（默认今天）/ date for overdue"),
        store: Optional[str] = store_option(),
        year: Optional[int] = year_option(),
        allow_incomplete: bool = incomplete_option(),
        discard_foreign: bool = discard_option(),
    ) -> None:
        """校准：按强制分布写入校准等级（HR 已定的保留并计入名额）/ apply the forced distribution."""
        _calibrate(master, rules, roster, department, period, today,
                   RecordArgs(store, year, allow_incomplete, discard_foreign))

    @app.command("rollup")
    def rollup_command(
        master: Path = typer.Option(..., "--master", help=master_help),
        year: int = typer.Option(..., "--year", min=2000, max=2100, help="年度 / year, e.g. 2026"),
        rules: Optional[Path] = typer.Option(None, "--rules", help=rules_help),
        store: Optional[str] = store_option(),
        allow_incomplete: bool = incomplete_option(),
        discard_foreign: bool = discard_option(),
    ) -> None:
        """年度汇总：季度/年度得分、改进计划与连续D标记（仅标记）/ annual roll-up and flags (flags only)."""
        _rollup(master, rules, year, RecordArgs(store, year, allow_incomplete, discard_foreign))

    @app.command("appeals")
    def appeals_command(
        master: Path = typer.Option(..., "--master", help=master_help),
        period: Optional[str] = typer.Option(None, "--period", help="与 --published 一起：记录公布日期 / with --published"),
        published: Optional[str] = typer.Option(None, "--published", help="结果公布日期 / publication date, 2026-10-09"),
        today: Optional[str] = typer.Option(None, "--today", help="逾期按此日判断（默认今天）/ date for overdue"),
        rules: Optional[Path] = typer.Option(None, "--rules", help=rules_help),
        store: Optional[str] = store_option(),
        year: Optional[int] = year_option(),
        discard_foreign: bool = discard_option(),
    ) -> None:
        """申诉：按工作日计算申诉期限、标记逾期，改定等级计入最终等级 / appeal deadlines, flags, revised grades."""
        _appeals(master, rules, period, published, today, RecordArgs(store, year, False, discard_foreign))

    @app.command("notices")
    def notices_command(
        master: Path = typer.Option(..., "--master", help=master_help),
        period: str = typer.Option(..., "--period", help="考核期间 / period, e.g. 2026-Q3"),
        out: Path = typer.Option(..., "--out", help="输出文件夹 / output folder"),
        department: Optional[str] = typer.Option(None, "--department", help="只生成该部门 / this department only"),
        published: Optional[str] = typer.Option(
            None, "--published", help="结果公布日期（默认已记录的日期或今天）/ publication date (default: recorded or today)"),
        pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="同时生成 PDF（需 LibreOffice）/ PDFs too"),
        force: bool = typer.Option(False, "--force", help="覆盖本期已生成的通知书 / overwrite this period's notices",
                                   show_default=False),
        rules: Optional[Path] = typer.Option(None, "--rules", help=rules_help),
        store: Optional[str] = store_option(),
        allow_incomplete: bool = incomplete_option(),
        discard_foreign: bool = discard_option(),
    ) -> None:
        """通知书：每位员工一份绩效结果通知书（xlsx，另有 PDF）/ one result notice per employee."""
        _notices(master, rules, period, out, department, published, pdf, force,
                 RecordArgs(store, None, allow_incomplete, discard_foreign))
