"""The house rules that can be read off the source (docs/architecture.md), checked on every run.

Each rule is a function from a :class:`~tests.support.architecture.Source` to
its violations. The ``test_*_holds`` tests run it on the installed package's
files (parsed, not imported); the ``test_*_finds`` tests run it on a few
made-up modules that break it, so a rule that silently stopped finding
anything would fail here too.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.support.architecture import (
    Source, listed_packages, package_dirs, package_folders_on_disk,
)
from tests.support.paths import REPO_ROOT

CORE, TEMPLATES, FACES = "kpisheet.validators", "kpisheet.workbook_templates", "kpisheet.xladdin"
CLI, EXCEL = "kpisheet.xladdin.cli", "kpisheet.xladdin.excel"


@pytest.fixture(scope="module")
def package() -> Source:
    return Source.of_package()


def made_up(modules: dict[str, str]) -> Source:
    return Source({name: (textwrap.dedent(text), False) for name, text in modules.items()})


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# --- the rules ------------------------------------------------------------------------------


def import_loops(source: Source) -> list[str]:
    return [" -> ".join(loop) for loop in source.import_loops()]


def private_names_across_modules(source: Source) -> list[str]:
    return [str(site) for site in source.private_imports()]


def core_imports_from_above(source: Source) -> list[str]:
    return [str(imp) for imp in source.imports_of(CORE, (TEMPLATES, FACES))]


def templates_import_from_faces(source: Source) -> list[str]:
    return [str(imp) for imp in source.imports_of(TEMPLATES, (FACES,))]


def xlwings_outside_excel(source: Source) -> list[str]:
    return [str(imp) for imp in source.imports_of("kpisheet", ("xlwings",)) if not under(imp.importer, EXCEL)]


def faces_importing_each_other(source: Source) -> list[str]:
    return [str(imp) for imp in source.imports_of(CLI, (EXCEL,)) + source.imports_of(EXCEL, (CLI,))]


def services_importing_faces(source: Source) -> list[str]:
    """The services (master, kit, annotate, demo, addin) are what the faces call, never the other way."""
    return [str(imp) for imp in source.imports_of(FACES, (CLI, EXCEL))
            if not under(imp.importer, CLI) and not under(imp.importer, EXCEL)]


def written_in_more_than_one_module(sites) -> list[str]:
    """All the sites, when they are spread over two modules or more (one module may hold a few)."""
    return [str(site) for site in sites] if len({site.module for site in sites}) > 1 else []


def console_builders(source: Source) -> list[str]:
    return written_in_more_than_one_module(source.console_builders())


def atomic_writers(source: Source) -> list[str]:
    return written_in_more_than_one_module(source.atomic_renames())


def lock_file_rules(source: Source) -> list[str]:
    return written_in_more_than_one_module(source.lock_rules())


def user_lookups(source: Source) -> list[str]:
    return written_in_more_than_one_module(source.user_lookups())


def exit_functions(source: Source) -> list[str]:
    sites = source.exit_functions()
    return [str(site) for site in sites] if len(sites) > 1 else []


DIRECTION = {
    "core imports nothing from workbook_templates or xladdin": core_imports_from_above,
    "workbook_templates imports nothing from xladdin": templates_import_from_faces,
    "only kpisheet.xladdin.excel imports xlwings": xlwings_outside_excel,
    "cli and excel never import each other": faces_importing_each_other,
    "services never import a face": services_importing_faces,
}
ONCE = {
    "one rich Console builder": console_builders,
    "one atomic writer (rename of a finished temp file)": atomic_writers,
    "one lock-file rule (~$, .~lock., .~)": lock_file_rules,
    "one current-user lookup": user_lookups,
    "one fail-and-exit function": exit_functions,
}


# --- the rules hold on the package ----------------------------------------------------------


def holds(violations: list[str]) -> None:
    assert not violations, "\n".join(["", *violations])


def test_no_import_loop_holds(package):
    holds(import_loops(package))


def test_no_private_name_crosses_modules_holds(package):
    holds(private_names_across_modules(package))


@pytest.mark.parametrize("rule", DIRECTION, ids=list(DIRECTION))
def test_dependency_direction_holds(package, rule):
    holds(DIRECTION[rule](package))


@pytest.mark.parametrize("rule", ONCE, ids=list(ONCE))
def test_faces_plumbing_exists_once_holds(package, rule):
    holds(ONCE[rule](package))


def test_pyproject_packages_are_the_package_folders():
    on_disk = package_folders_on_disk()
    listed = listed_packages()
    assert sorted(listed - set(on_disk)) == [], "listed in pyproject.toml but no such folder of modules"
    assert sorted(set(on_disk) - listed) == [], "folders of modules missing from pyproject.toml's packages"
    assert [name for name, folder in on_disk.items() if not (folder / "__init__.py").is_file()] == []


def test_the_package_has_the_three_folders_and_its_modules():
    # a guard for the rules above: they would pass on an empty or misread tree
    assert set(package_dirs()) == {"kpisheet", CORE, TEMPLATES, FACES}
    modules = Source.of_package().modules
    assert {"kpisheet.validators.validate", "kpisheet.workbook_templates.team_workbook",
            "kpisheet.xladdin.cli.app", "kpisheet.xladdin.excel.udfs"} <= set(modules)
    assert len(modules) > 80


def test_no_test_module_imports_another():
    """Shared helpers live in tests/support; a test module or conftest is never imported."""
    sources = {}
    for path in sorted((REPO_ROOT / "tests").rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        sources[".".join(parts[:-1] if is_package else parts)] = (path.read_text(encoding="utf-8"), is_package)
    holds(imports_of_test_modules(Source(sources)))


def imports_of_test_modules(source: Source) -> list[str]:
    def is_test_module(name: str) -> bool:
        last = name.rsplit(".", 1)[-1]
        return under(name, "tests") and (last.startswith("test_") or last == "conftest")

    return [str(imp) for module in source.modules.values() for imp in module.imports if is_test_module(imp.target)]


# --- each rule finds what it is meant to find -----------------------------------------------


def test_import_loop_finds_a_loop_through_a_function_level_import():
    loop = made_up({
        "kpisheet.validators.a": "from kpisheet.validators.b import thing\n",
        "kpisheet.validators.b": "def thing():\n    from kpisheet.validators import a\n    return a\n",
        "kpisheet.validators.c": "import kpisheet.validators.a\n",
    })
    assert import_loops(loop) == ["kpisheet.validators.a -> kpisheet.validators.b -> kpisheet.validators.a"]
    one_way = made_up({"kpisheet.validators.a": "from kpisheet.validators.b import thing\n",
                       "kpisheet.validators.b": "def thing():\n    import json\n"})
    assert import_loops(one_way) == []


def test_import_loop_finds_a_loop_through_a_package_init():
    source = Source({"kpisheet.m": ("", True), "kpisheet.m.x": ("from kpisheet.n import y\n", False),
                     "kpisheet.n": ("from kpisheet.m.x import z\n", False)})
    assert import_loops(source) == ["kpisheet.m.x -> kpisheet.n -> kpisheet.m.x"]


def test_private_name_rule_finds_from_imports_and_attribute_reads():
    source = made_up({
        "kpisheet.xladdin.master.consolidate": "def _user():\n    return ''\n\nx = _user()\n",
        "kpisheet.xladdin.demo.one": "from kpisheet.xladdin.master.consolidate import _user\n",
        "kpisheet.xladdin.demo.two": "from kpisheet.xladdin.master import consolidate\n\nconsolidate._user()\n",
        "kpisheet.xladdin.demo.three": "import kpisheet.xladdin.master.consolidate\n\n"
                                       "kpisheet.xladdin.master.consolidate._user()\n",
        "kpisheet.xladdin.demo.fine": "from kpisheet.xladdin.master.consolidate import __doc__\n",
    })
    assert private_names_across_modules(source) == [
        "kpisheet.xladdin.demo.one:1: from kpisheet.xladdin.master.consolidate import _user",
        "kpisheet.xladdin.demo.three:3: kpisheet.xladdin.master.consolidate._user",
        "kpisheet.xladdin.demo.two:3: kpisheet.xladdin.master.consolidate._user",
    ]


def test_direction_rules_find_each_wrong_arrow():
    source = made_up({
        "kpisheet.validators.core": "def f():\n    from kpisheet.xladdin.kit import inputs\n",
        "kpisheet.workbook_templates.form": "import kpisheet.xladdin.master.layout\n",
        "kpisheet.xladdin.master.views": "import xlwings as xw\n",
        "kpisheet.xladdin.excel.udfs": "import xlwings as xw\nfrom kpisheet.xladdin.cli.forms import make_forms\n",
        "kpisheet.xladdin.cli.forms": "from kpisheet.xladdin.excel import settings\n",
        "kpisheet.xladdin.cli.rules": "from kpisheet.validators.rulebook import load\n",
        "kpisheet.xladdin.demo.cycle": "def run():\n    from kpisheet.xladdin.cli.forms import make_forms\n",
    })
    assert core_imports_from_above(source) == ["kpisheet.validators.core:2: from kpisheet.xladdin.kit import inputs"]
    assert templates_import_from_faces(source) == ["kpisheet.workbook_templates.form:1: import kpisheet.xladdin.master.layout"]
    assert xlwings_outside_excel(source) == ["kpisheet.xladdin.master.views:1: import xlwings"]
    assert len(faces_importing_each_other(source)) == 2
    assert services_importing_faces(source) == [
        "kpisheet.xladdin.demo.cycle:2: from kpisheet.xladdin.cli.forms import make_forms"]


def test_once_rules_find_a_second_copy_and_ignore_lookalikes():
    first = """
        import getpass, os, typer
        from rich.console import Console
        LOCK = ("~$", ".~lock.")

        def console():
            return Console(stderr=True)

        def write(temp, target):
            os.replace(temp, target)

        def user():
            return getpass.getuser()

        def fail(zh, en):
            return typer.Exit(2)
    """
    second = """
        '''A module that mentions ~$name.xlsx in its docstring.'''
        import os, sys, datetime
        import rich.console
        from pathlib import Path

        MESSAGE = "请不要提交以 ~$ 开头的文件"
        EXAMPLE = "~$考核表.xlsx"

        def console():
            return rich.console.Console()

        def write(temp, target):
            Path(temp).replace(target)
            "a-b".replace("-", "_")
            datetime.datetime.now().replace(microsecond=0)

        def is_lock(name):
            return name.startswith(f".~lock.{name}#")

        def who():
            return os.environ.get("USERNAME", "")

        def die(message):
            print(message)
            sys.exit(2)

        def version_callback(value):
            if value:
                raise SystemExit(0)
    """
    alone = made_up({"kpisheet.xladdin.kit.one": first})
    assert {rule: ONCE[rule](alone) for rule in ONCE} == {rule: [] for rule in ONCE}
    both = made_up({"kpisheet.xladdin.kit.one": first, "kpisheet.xladdin.cli.two": second})
    found = {rule: ONCE[rule](both) for rule in ONCE}
    assert all(found.values()), found
    assert [s for s in found["one lock-file rule (~$, .~lock., .~)"] if "cli.two" in s] == [
        "kpisheet.xladdin.cli.two:19: '.~lock.'"]
    assert [s for s in found["one fail-and-exit function"] if "cli.two" in s] == ["kpisheet.xladdin.cli.two:24: def die"]
    assert [s for s in found["one atomic writer (rename of a finished temp file)"] if "cli.two" in s] == [
        "kpisheet.xladdin.cli.two:14: <path>.replace(target)"]


def test_test_module_rule_finds_imports_of_test_modules_and_conftest():
    source = made_up({
        "tests.support.helpers": "from tests.conftest import require\n",
        "tests.room.test_a": "from tests.room.test_b import build\nfrom tests.support import helpers\n",
        "tests.room.test_b": "def build():\n    pass\n",
    })
    assert imports_of_test_modules(source) == ["tests.support.helpers:1: from tests.conftest import require",
                                               "tests.room.test_a:1: from tests.room.test_b import build"]
