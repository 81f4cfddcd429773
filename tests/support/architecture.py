"""The package's source read with ``ast``, for the house-rule checks in tests/test_architecture.py.

Nothing is imported: every module's file is parsed, so an import inside a
function, a private name reached through a module attribute or a second
console builder is seen even where no test runs that code. A
:class:`Source` is built from a ``{module name: source text}`` mapping, so
the checks can also be run on a few made-up modules to show that each one
finds what it is meant to find.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tests.support.paths import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
ROOT_PACKAGE = "kpisheet"


def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def package_dirs() -> dict[str, Path]:
    """The pyproject ``package-dir`` mapping: import name -> folder in the repository."""
    mapping = pyproject()["tool"]["setuptools"]["package-dir"]
    return {name: REPO_ROOT / folder for name, folder in mapping.items()}


def listed_packages() -> set[str]:
    return set(pyproject()["tool"]["setuptools"]["packages"])


def package_folders_on_disk() -> dict[str, Path]:
    """Every folder holding Python files under a mapped folder, by the import name it installs as."""
    found: dict[str, Path] = {}
    for name, folder in package_dirs().items():
        for python_file in folder.rglob("*.py"):
            if "__pycache__" in python_file.parts:
                continue
            relative = python_file.parent.relative_to(folder).parts
            found.setdefault(".".join((name,) + relative), python_file.parent)
    return found


def package_sources() -> dict[str, tuple[str, bool]]:
    """module name -> (source text, is a package ``__init__``) for every module of the distribution."""
    sources: dict[str, tuple[str, bool]] = {}
    for name, folder in package_dirs().items():
        for python_file in sorted(folder.rglob("*.py")):
            if "__pycache__" in python_file.parts:
                continue
            parts = (name,) + python_file.relative_to(folder).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
            sources[module] = (python_file.read_text(encoding="utf-8"), is_package)
    return sources


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (ours or a third party's dotted name)
    name: str | None  # the name taken from it by ``from target import name``; None for a module import
    line: int

    def __str__(self) -> str:
        what = f"from {self.target} import {self.name}" if self.name else f"import {self.target}"
        return f"{self.importer}:{self.line}: {what}"


@dataclass(frozen=True)
class Site:
    """One place in the source: a module, a line and what is there."""

    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


# calls that make the process exit, or the exception objects that do it
EXIT_CALLS = {"typer.Exit", "typer.Abort", "click.exceptions.Exit", "click.Abort", "click.exceptions.Abort",
              "SystemExit", "sys.exit"}
USER_CALLS = {"getpass.getuser", "os.getlogin", "pwd.getpwuid"}
USER_ENV = {"USERNAME", "USER", "LOGNAME"}
ENV_CALLS = {"os.environ.get", "os.getenv"}
RENAME_CALLS = {"os.replace", "os.rename", "shutil.move"}
LOCK_PREFIXES = ("~$", ".~lock.", ".~")  # Excel and WPS on Windows, LibreOffice, WPS for Linux
FAIL_NAME = re.compile(r"fail|abort|die|bail|usage_error", re.IGNORECASE)


@dataclass
class Module:
    name: str
    tree: ast.Module
    is_package: bool
    imports: list[Import] = field(default_factory=list)
    # local name -> what it stands for ("os", "getpass.getuser", "kpisheet.validators.validate")
    aliases: dict[str, str] = field(default_factory=dict)

    @cached_property
    def docstrings(self) -> set[int]:
        ids = set()
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                        and isinstance(first.value.value, str):
                    ids.add(id(first.value))
        return ids

    def qualified(self, node: ast.AST) -> str | None:
        """``os.environ.get`` for a Name/Attribute chain whose head is an import alias (or a builtin)."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, node.id if node.id in ("SystemExit",) else None)
        if head is None:
            return None
        return ".".join([head] + parts[::-1])


class Source:
    """Modules of one distribution and what each imports."""

    def __init__(self, sources: dict[str, tuple[str, bool]]):
        self.modules: dict[str, Module] = {}
        for name, (text, is_package) in sources.items():
            self.modules[name] = Module(name, ast.parse(text, filename=name), is_package)
        for module in self.modules.values():
            self._read_imports(module)

    @classmethod
    def of_package(cls) -> Source:
        return cls(package_sources())

    # --- imports ------------------------------------------------------------------------

    def _absolute(self, module: Module, target: str | None, level: int) -> str:
        if level == 0:
            return target or ""
        base = module.name.split(".")
        if not module.is_package:
            base = base[:-1]
        base = base[: len(base) - (level - 1)]
        return ".".join(base + ([target] if target else []))

    def _read_imports(self, module: Module) -> None:
        for node in ast.walk(module.tree):  # every level: function-level imports are imports too
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports.append(Import(module.name, alias.name, None, node.lineno))
                    if alias.asname:
                        module.aliases[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        module.aliases[head] = head
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(module, node.module, node.level)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in self.modules:
                        module.imports.append(Import(module.name, full, None, node.lineno))
                    else:
                        module.imports.append(Import(module.name, base, alias.name, node.lineno))
                    module.aliases[alias.asname or alias.name] = full
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in ("import_module", "__import__"):
                    module.imports.append(Import(module.name, node.args[0].value, None, node.lineno))

    def ours(self, target: str) -> bool:
        return target == ROOT_PACKAGE or target.startswith(ROOT_PACKAGE + ".")

    def graph(self) -> dict[str, dict[str, int]]:
        """importer -> {imported module of ours: first line}, with the packages an import runs on the way.

        ``import a.b.c`` runs ``a`` and ``a.b`` first; the importer's own
        enclosing packages are already running, so they are not edges.
        """
        edges: dict[str, dict[str, int]] = {name: {} for name in self.modules}
        for module in self.modules.values():
            own = {".".join(module.name.split(".")[:i]) for i in range(1, module.name.count(".") + 1)}
            for imp in module.imports:
                if not self.ours(imp.target):
                    continue
                parts = imp.target.split(".")
                for i in range(1, len(parts) + 1):
                    target = ".".join(parts[:i])
                    if target in self.modules and target != module.name and target not in own:
                        edges[module.name].setdefault(target, imp.line)
        return edges

    def import_loops(self) -> list[list[str]]:
        """Each strongly connected group of modules, as one loop through it (``a -> b -> a``)."""
        edges = self.graph()
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        groups: list[list[str]] = []

        def connect(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for nxt in sorted(edges[node]):
                if nxt not in index:
                    connect(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

        for node in sorted(edges):
            if node not in index:
                connect(node)
        return [self._loop_through(group, edges) for group in sorted(groups)]

    @staticmethod
    def _loop_through(group: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
        """The shortest path from the group's first module back to itself, inside the group."""
        start, members = group[0], set(group)
        paths = {start: [start]}
        queue = [start]
        while queue:
            node = queue.pop(0)
            for nxt in sorted(edges[node]):
                if nxt == start:
                    return paths[node] + [start]
                if nxt in members and nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    queue.append(nxt)
        return group  # unreachable for a strongly connected group

    # --- private names ------------------------------------------------------------------

    def private_imports(self) -> list[Site]:
        """``from other import _name`` and ``other._name`` where ``other`` is another module of ours."""
        found: list[Site] = []
        for module in self.modules.values():
            for imp in module.imports:
                if imp.name and is_private(imp.name) and self.ours(imp.target) and imp.target != module.name:
                    found.append(Site(module.name, imp.line, f"from {imp.target} import {imp.name}"))
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Attribute) or not is_private(node.attr):
                    continue
                owner = module.qualified(node.value)
                if owner and owner in self.modules and owner != module.name:
                    found.append(Site(module.name, node.lineno, f"{owner}.{node.attr}"))
        return sorted(set(found), key=lambda s: (s.module, s.line, s.what))

    # --- dependency direction -----------------------------------------------------------

    def imports_of(self, importer_prefix: str, target_prefixes: tuple[str, ...]) -> list[Import]:
        def under(name: str, prefix: str) -> bool:
            return name == prefix or name.startswith(prefix + ".")

        return [imp for module in self.modules.values() if under(module.name, importer_prefix)
                for imp in module.imports if any(under(imp.target, p) for p in target_prefixes)]

    # --- plumbing written once ----------------------------------------------------------

    def calls(self):
        """(module, call node, qualified callee or None) for every call."""
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    yield module, node, module.qualified(node.func)

    def console_builders(self) -> list[Site]:
        return [Site(m.name, node.lineno, "rich.console.Console(...)")
                for m, node, callee in self.calls() if callee == "rich.console.Console"]

    def atomic_renames(self) -> list[Site]:
        """Renames of a finished temp file over its target: os.replace/os.rename/shutil.move, Path.replace/rename."""
        sites = []
        for m, node, callee in self.calls():
            if callee in RENAME_CALLS:
                sites.append(Site(m.name, node.lineno, f"{callee}(...)"))
            elif isinstance(node.func, ast.Attribute) and node.func.attr in ("replace", "rename") \
                    and callee is None and len(node.args) == 1 and not node.keywords:
                # str.replace takes two arguments and datetime.replace keywords: one argument is a path rename
                sites.append(Site(m.name, node.lineno, f"<path>.{node.func.attr}(target)"))
        return sites

    def lock_rules(self) -> list[Site]:
        """String literals that spell a lock-file pattern (``~$``, ``.~lock.``, ``.~``) in code, not in docstrings.

        A literal counts when it is the bare prefix (``"~$"``, also the head
        of an f-string such as ``f"~${name}"``) or a glob/regex built on it;
        message text that mentions ``~$`` in a sentence, or an example file
        name, is not a rule.
        """
        sites = []
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) \
                        or id(node) in module.docstrings:
                    continue
                text = node.value.lstrip("^").replace("\\", "")
                if not text.startswith(LOCK_PREFIXES):
                    continue
                if text in LOCK_PREFIXES or any(ch in text for ch in "*?[(|"):
                    sites.append(Site(module.name, node.lineno, repr(node.value)))
        return sites

    def user_lookups(self) -> list[Site]:
        sites = []
        for m, node, callee in self.calls():
            if callee in USER_CALLS:
                sites.append(Site(m.name, node.lineno, f"{callee}()"))
            elif callee in ENV_CALLS and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in USER_ENV:
                sites.append(Site(m.name, node.lineno, f"{callee}({node.args[0].value!r})"))
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Subscript) and module.qualified(node.value) == "os.environ" \
                        and isinstance(node.slice, ast.Constant) and node.slice.value in USER_ENV:
                    sites.append(Site(module.name, node.lineno, f"os.environ[{node.slice.value!r}]"))
        return sites

    def exit_functions(self) -> list[Site]:
        """Functions that turn a failure into a process exit: they return an exit object
        (``return typer.Exit(2)``), or are named for failing and raise one or call sys.exit.
        Typer commands that end with their own exit code are not counted."""
        sites = []
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                returns_exit = exits = False
                for inner in _own_nodes(node):
                    if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Call) \
                            and module.qualified(inner.value.func) in EXIT_CALLS:
                        returns_exit = True
                    if isinstance(inner, ast.Call) and module.qualified(inner.func) in EXIT_CALLS:
                        exits = True
                if returns_exit or (exits and FAIL_NAME.search(node.name)):
                    sites.append(Site(module.name, node.lineno, f"def {node.name}"))
        return sites


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, without those of functions defined inside it."""
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
