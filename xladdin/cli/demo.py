"""`kpisheet demo [DIR] [--company]` (the whole cycle on the shipped samples) and `kpisheet bench` (the speed figures).

Exit codes: 0 done; 2 usage or I/O (DIR not empty without --force, DIR not
writable, bad option).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpisheet.validators.errors import UsageError
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.files import as_file_error
from kpisheet.xladdin.kit.progress import Steps, progress_bar
from kpisheet.xladdin.demo.bench import SCALE as BENCH_SCALE

DEFAULT_DEMO_DIR = "kpisheet-demo"


def _new_default_folder() -> Path:
    """./kpisheet-demo, or -2, -3 ... when an earlier demo is there: the default never overwrites."""
    candidate, n = Path(DEFAULT_DEMO_DIR), 1
    while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
        n += 1
        candidate = Path(f"{DEFAULT_DEMO_DIR}-{n}")
    return candidate


def _prepare_folder(folder: Path | None, force: bool) -> Path:
    from kpisheet.xladdin.demo.cycle import clear_outputs

    if folder is None:
        return _new_default_folder()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} 是文件，不是文件夹", f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise UsageError(f"文件夹 {folder} 不是空的；换一个文件夹，或加 --force 覆盖上次演示的输出",
                             f"folder {folder} is not empty; choose another folder, or add --force to replace "
                             "an earlier demo's outputs")
        try:
            clear_outputs(folder)
        except OSError as error:
            raise UsageError(f"无法清除旧的演示输出：{error}", f"cannot remove the earlier demo's outputs: {error}") from None
    return folder


def _run(console: Console, folder: Path, company: bool):
    from kpisheet.xladdin.demo.cycle import run_demo

    with progress_bar(console) as bar:
        return run_demo(folder, Steps(bar), company=company)


def _print_rounds(console: Console, result) -> None:
    table = Table(title="提交与校验 Submissions and validation", title_justify="left")
    for head in ("轮次 Round", "文件 Files", "接受 Accepted", "拒绝 Rejected", "警告 Warnings"):
        table.add_column(head, justify="right" if head != "轮次 Round" else "left")
    table.add_column("被拒原因 Why rejected（错误代码 error codes）", overflow="fold")
    for r in result.rounds:
        why = "\n".join(f"{name}: {', '.join(codes)}" for name, codes in r.rejected) or "—"
        table.add_row(r.label, str(r.files), str(len(r.accepted)), str(len(r.rejected)), str(r.warnings), Text(why))
    console.print(table)


def _print_distribution(console: Console, result, rulebook) -> None:
    from kpisheet.validators.policy.grading import bands_best_first

    d = rulebook.distribution
    grades = [band.grade for band in bands_best_first(rulebook)]
    quotas = (f"{grades[0]} ≤ {d.s_max:.0%}，{'+'.join(grades[:2])} ≤ {d.sa_max:.0%}，{grades[2]} ≥ {d.b_min:.0%}，"
              f"{'+'.join(grades[3:])} {d.cd_min:.0%}–{d.cd_max:.0%}")
    table = Table(title=f"最终等级分布与配额 Final grades against the quotas（{quotas}）", title_justify="left")
    for head in ("期间 Period", "部门 Department", "人数 People", "参与 In quota"):
        table.add_column(head)
    for grade in grades:
        table.add_column(grade, justify="right")
    table.add_column(f"{grades[0]} / {'+'.join(grades[:2])} / {grades[2]} / {'+'.join(grades[3:])}", justify="right")
    table.add_column("配额检查 Quota check", overflow="fold")
    for row in result.distribution:
        shares = " / ".join(f"{row[k]:.0%}" if row.get(k) is not None else "—"
                            for k in ("share_top", "share_top2", "share_mid", "share_low"))
        check = row.get("over_quota") or "✓ 符合 within quotas"
        table.add_row(row["period"], row["department"], str(row["headcount"]), str(row["eligible"]),
                      *(str(row.get(f"count_{g}", 0)) for g in grades), shares,
                      Text(check, style="yellow" if row.get("over_quota") else "green"))
    console.print(table)
    console.print(Text("校准调整 calibration changes: " + "；".join(
        f"{period} {n} 人 people" for period, n in result.calibration_changes.items())))


def _print_story(console: Console, result) -> None:
    a = result.appeal
    if a is not None:
        console.print(Text(
            f"申诉 Appeal: {a.period} {a.employee_id} {a.name}，结果公布 published {a.published}，申诉 filed {a.filed}"
            f"（截止 file by {a.file_by}），受理截止 accept by {a.accept_by}，处理截止 resolve by {a.resolve_by}；"
            f"等级 grade {a.grade_before} → {a.grade_after}（按中国工作日含调休计算 / Chinese working days, "
            "make-up days included）"))
        if a.note:
            console.print(Text(f"  系统提示 note: {a.note}", style="yellow"))
    console.print(Text(f"年度汇总 Annual roll-up: {result.annual_employees} 人 employees；"
                       f"改进计划/连续D 标记 PIP and consecutive-D flags: {len(result.flagged)}（见汇总表“年度” / "
                       "see sheet 年度；系统仅标记 flags only）"))
    if result.addin_problem:
        console.print(Text(f"Excel 加载项未生成 add-in not built: {result.addin_problem}", style="yellow"))


def _print_outputs(console: Console, result) -> None:
    table = Table(title=f"输出文件 Output files（{result.folder.resolve()}）", title_justify="left")
    table.add_column("内容 What")
    table.add_column("位置 Where", overflow="fold")
    for label, path in result.outputs:
        table.add_row(label, Text(str(path)))
    console.print(table)


def _summary(console: Console, result) -> None:
    people = "，".join(f"{period} {n} 人" for period, n in result.employees.items())
    departments = f"{len(result.departments)} 个部门 departments（{'、'.join(result.departments)}），" \
        if len(result.departments) > 1 else ""
    console.print(Text(f"\n演示完成 Demo finished in {result.seconds:.1f} s: {departments}{result.teams} 个团队 teams；"
                       f"参评员工 employees appraised: {people}", style="bold green"))
    _print_rounds(console, result)
    _print_distribution(console, result, result.rulebook)
    _print_story(console, result)
    _print_outputs(console, result)
    console.print(Text(f"用 Excel、WPS 或 LibreOffice 打开 {result.master}：“分布”表有等级分布图，“日志”表记录每一次改动 / "
                       "open the master: 分布 holds the distribution chart, 日志 the audit log"))


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        folder: Optional[Path] = typer.Argument(None, help=f"输出文件夹（默认 ./{DEFAULT_DEMO_DIR}）/ output folder",
                                                show_default=False),
        force: bool = typer.Option(False, "--force", help="文件夹非空时覆盖上次演示的输出 / replace an earlier demo's outputs"),
        company: bool = typer.Option(False, "--company", help="示例公司：售后、销售、研发三个部门各用自己的规则表，汇总到一张汇总表"
                                     " / the example company: three departments, each with its own rulebook, one master"),
    ) -> None:
        """演示：用示例花名册跑完整个考核周期 / the whole appraisal cycle on the shipped samples.

        规则表 → 考核表 → 经理填写（含常见错误）→ 校验与标注 → 汇总 → 校准 → 通知书 → 申诉 → 年度汇总 → 加载项。
        rulebook → team workbooks → filled (some with slips) → validation with annotated copies → master →
        calibration → notices → an appeal → annual roll-up → add-in.
        --company：示例公司（samples/company，三个部门 278 人），每个团队按其部门的规则表生成、校验和计分 / the example
        company (samples/company, three departments, 278 people), each team made, checked and scored by its
        department's rules.
        """
        console = make_console()
        target = _prepare_folder(folder, force)
        result = _run(console, target, company)
        _summary(console, result)

    @app.command("bench")
    def bench(
        teams: int = typer.Option(1000, "--teams", min=2, help="团队考核表数量 / number of team workbooks"),
        json_out: Optional[Path] = typer.Option(None, "--json", help="结果另存为 JSON / write the figures as JSON",
                                                show_default=False),
        work: Optional[Path] = typer.Option(None, "--work", help="生成文件的文件夹（默认临时）/ where the workbooks go "
                                            "(default: a temporary folder)", show_default=False),
        repeats: int = typer.Option(5, "--repeats", min=1, help="每项配对测量的次数 / paired runs per figure"),
        master_rows: int = typer.Option(100_000, "--master-rows", min=1,
                                        help="写表测量的汇总表行数 / rows of the master in the write figure"),
        scale: int = typer.Option(BENCH_SCALE, "--scale", min=1, help="规模测量：另以 N 倍的考核表测内存与耗时 / the memory and "
                                  "time runs also take N times the team workbooks"),
        company: bool = typer.Option(False, "--company", help="公司规模：各部门的考核表按部门规则校验、汇总到空记录并写出本期汇总表，"
                                     "测量各步耗时和峰值内存（两个规模）/ a company's inbox end to end at two sizes"),
        employees: int = typer.Option(100_000, "--employees", min=24,
                                      help="--company 的员工人数（约每 12 人一个考核表）/ people in the company run"),
        rules: Optional[Path] = typer.Option(None, "--rules", help="--company 的公司规则表（默认 samples/company）/ "
                                             "the company's rulebooks", show_default=False),
    ) -> None:
        """性能测试：生成 N 个团队考核表并并排测量校验、汇总和写表 / measure validation, consolidation and the master writer.

        --company [--employees N] [--rules DIR] [--work DIR]：整个公司的收件箱端到端 / a whole company's inbox end to end.
        """
        from kpisheet.xladdin.demo.bench import print_results, run_bench, write_json

        console = make_console()
        if company:
            _company_bench(console, employees, rules, work, json_out)
            return
        results = run_bench(teams, work=work, repeats=repeats, master_rows=master_rows, scale=scale, console=console)
        print_results(console, results)
        _save_json(console, lambda: write_json(results, json_out), json_out)


def _company_bench(console: Console, employees: int, rules: Path | None, work: Path | None,
                   json_out: Path | None) -> None:
    from kpisheet.xladdin.demo.company_bench import print_company_results, run_company_bench, write_company_json

    results = run_company_bench(employees, rules=rules, work=work, console=console)
    print_company_results(console, results)
    _save_json(console, lambda: write_company_json(results, json_out), json_out)


def _save_json(console: Console, write, json_out: Path | None) -> None:
    """A bench's figures as JSON when --json was given: ``write()`` writes them; a file error is one line."""
    if json_out is None:
        return
    try:
        write()
    except OSError as error:
        raise as_file_error(error, json_out) from None
    console.print(Text(f"✓ JSON: {json_out}", style="green"))
