"""The error kinds: one catalogue, every exception of kpisheet in it, and docs/errors.md generated from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from kpisheet.validators.errors import ERROR_KINDS, KpisheetError
from kpisheet.validators.findings import CATALOGUE
from kpisheet.xladdin.errors_doc import ERRORS_DOC, errors_markdown, load_every_kind
from tests.support.paths import REPO_ROOT


def kpisheet_exception_classes():
    load_every_kind()
    for part in ("validators", "workbook_templates", "xladdin"):
        package = importlib.import_module(f"kpisheet.{part}")
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            loaded = importlib.import_module(module.name)
            for _name, cls in inspect.getmembers(loaded, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == loaded.__name__:
                    yield cls


def test_every_exception_kpisheet_defines_is_a_kpisheet_error():
    classes = list(kpisheet_exception_classes())
    assert len(classes) > 30
    strays = [f"{cls.__module__}.{cls.__name__}" for cls in classes if not issubclass(cls, KpisheetError)]
    assert strays == []


def test_every_listed_kind_says_what_it_is_in_both_languages():
    kinds = load_every_kind()
    assert len(kinds) >= 30
    for code, kind in kinds.items():
        assert kind.title_zh != KpisheetError.title_zh and kind.title_en != KpisheetError.title_en, code
        assert kind.description and kind.description != KpisheetError.description, code
        assert kind.exit_code in (1, 2), code


def test_no_error_code_is_also_a_finding_code():
    assert not set(load_every_kind()) & set(CATALOGUE)


def test_errors_doc_is_generated_from_the_kinds():
    committed = (REPO_ROOT / ERRORS_DOC).read_text(encoding="utf-8")
    assert committed == errors_markdown(), "docs/errors.md is stale: run `python -m kpisheet.xladdin.errors_doc`"
    assert all(f"`{code}`" in committed for code in ERROR_KINDS)
