"""`kpisheet rules check|export`: check a rulebook or a company's set of rulebooks, or write one as YAML or .xlsx.

Exit codes, as for every kpisheet command: 0 fine; 2 the rulebook has
problems (each listed with its file, key path or sheet!cell and line; the
same error every command gives for that rulebook), or usage and I/O (no such
file, unknown suffix, an existing file without --force, cannot write).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from kpisheet.validators.errors import UsageError
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.load import dump_yaml
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.xlsx import dump_xlsx
from kpisheet.xladdin.cli.base import KpisheetGroup
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.files import write_atomically
from kpisheet.xladdin.kit.inputs import load_company_option

YAML_SUFFIXES, XLSX_SUFFIXES = (".yaml", ".yml"), (".xlsx",)


def _summary(rulebook: Rulebook) -> str:
    m = rulebook.meta
    return (f"{m.name_zh} / {m.name_en}（{m.version}）：{len(rulebook.categories)} 类别 categories, "
            f"{len(rulebook.roles)} 岗位 roles, {len(rulebook.indicators)} 指标 indicators, "
            f"{len(rulebook.grades)} 等级 grades")


def _company_lines(company: Company) -> list[str]:
    m = company.meta
    grades = "/".join(f"{g.grade} {g.coefficient:g}" for g in company.first.grades)
    lines = [f"{m.name_zh} / {m.name_en}（{m.version}）：{len(company.departments)} 部门 departments; "
             f"等级与系数 grades {grades}"]
    for department in company.departments:
        rb = department.rulebook
        own = f"；自行设置 overrides: {', '.join(department.overrides)}" if department.overrides else ""
        teams = f"；认领团队 teams: {'、'.join(department.teams)}" if department.teams else ""
        lines.append(f"  • {department.name_zh} {department.name_en}（{department.source}）：{len(rb.roles)} 岗位 roles, "
                     f"{len(rb.indicators)} 指标 indicators{own}{teams}")
    return lines


def _one_department(company: Company, name: str | None, source: Path | None):
    """The rulebook to export: a single rulebook's, or the named department's of a company."""
    if company.single:
        if name is not None and company.meta is None and source is not None:
            raise UsageError(f"--department 只用于公司规则表；{source} 是单个规则表",
                             f"--department is for a company's rulebooks; {source} is a single rulebook")
        return company.first
    names = "、".join(company.names_zh())
    if name is None:
        raise UsageError(f"{source} 是公司规则表（部门：{names}）：请用 --department 指定导出哪个部门的完整规则",
                         f"{source} is a company's set of rulebooks ({names}): choose one with --department")
    department = company.department(name)
    if department is None:
        raise UsageError(f"公司规则表中没有部门“{name}”；可选：{names}", f"no department '{name}' in {source}; one of: {names}")
    return department.rulebook


def _export(rulebook: Rulebook, target: Path, source: str) -> None:
    if target.suffix.lower() in XLSX_SUFFIXES:
        write_atomically(target, lambda temp: dump_xlsx(rulebook, temp))
    else:
        header = (f"# kpisheet rulebook: {rulebook.meta.name_zh} / {rulebook.meta.name_en}\n"
                  f"# exported from {source}; check it with: kpisheet rules check {target.name}\n")
        text = header + dump_yaml(rulebook)
        write_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def register(app: typer.Typer) -> None:
    rules = typer.Typer(help="规则表 / rulebook: check or export", no_args_is_help=True, cls=KpisheetGroup)
    app.add_typer(rules, name="rules")

    @rules.command("check")
    def check(
        files: Optional[list[Path]] = typer.Argument(
            None, help="规则表 .yaml/.yml 或 .xlsx；公司规则表（文件或所在文件夹，可再加部门规则表）；省略则检查内置默认规则 / "
            "a rulebook file; or a company's rulebooks (the company file or its folder, optionally with department "
            "files); default: the built-in one", show_default=False),
    ) -> None:
        """检查规则表或公司的整套规则表，列出全部问题 / check a rulebook, or a company's set of rulebooks, and list
        every problem.

        公司规则表还检查部门之间的冲突（同一指标代码含义不同、同一岗位指标不同、一个团队被两个部门认领）/ a company's set is
        also checked for conflicts between departments (an indicator code meaning two things, a role with other
        indicators, a team claimed twice).

        退出码 exit code: 0 有效 valid; 2 有问题、不是规则表或文件不存在 problems (each with its file and place), not a
        rulebook, or no such file.
        """
        console = make_console()
        company = load_company_option(list(files or []))
        if company.single:
            console.print(Text(f"✓ OK 规则表有效 / rulebook is valid: {files[0] if files else '内置默认 built-in default'}",
                               style="bold green"))
            console.print(Text(_summary(company.first)))
            return
        console.print(Text(f"✓ OK 公司规则表有效 / the company's rulebooks are valid: {company.source}",
                           style="bold green"))
        for line in _company_lines(company):
            console.print(Text(line), soft_wrap=True)

    @rules.command("export")
    def export(
        target: Path = typer.Argument(..., help="输出文件 FILE.yaml 或 FILE.xlsx / output file", show_default=False),
        source: Optional[Path] = typer.Option(
            None, "--rules", help="导出此规则表（或公司规则表中的一个部门）而非内置默认 / export this rulebook (or one "
            "department of a company's rulebooks) instead of the built-in one", show_default=False),
        department: Optional[str] = typer.Option(
            None, "--department", help="公司规则表中的部门：导出其完整规则（公司设置 + 部门规则）/ the department of a "
            "company's rulebooks whose whole rules (company settings + its own) to export", show_default=False),
        force: bool = typer.Option(False, "--force", help="覆盖已有文件 / overwrite an existing file",
                                   show_default=False),
    ) -> None:
        """导出规则表为 YAML 或 Excel（按扩展名） / write the rulebook as YAML or .xlsx, by the suffix.

        退出码 exit code: 0 已写出 written; 2 源规则表有问题、扩展名不对、文件已存在（未加 --force）、无法写入
        the source rulebook has problems, or usage and I/O.
        """
        console = make_console()
        suffix = target.suffix.lower()
        if suffix not in YAML_SUFFIXES + XLSX_SUFFIXES:
            raise UsageError(f"不支持的扩展名 “{target.suffix or '（无）'}”：请用 .yaml、.yml 或 .xlsx",
                             f"unsupported suffix '{target.suffix}': use .yaml, .yml or .xlsx")
        if target.exists() and not force:
            raise UsageError(f"{target} 已存在；加 --force 覆盖", f"{target} exists; add --force to overwrite")
        if not target.parent.is_dir():
            raise UsageError(f"目录不存在：{target.parent}", f"no such folder: {target.parent}")
        rulebook = _one_department(load_company_option(source), department, source)
        where = f"{source} ({rulebook.meta.department_en})" if department else str(source) if source else \
            "the built-in default"
        _export(rulebook, target, where)
        console.print(Text(f"✓ 已导出 / exported: {target}", style="bold green"))
        console.print(Text(_summary(rulebook)))
