"""The one progress bar: rich, on the console it is given, fed by the services' ``progress(done, total)``.

Services report progress through a plain callback so that they know nothing
of rich; the CLI turns it into a bar here, the ribbon into Excel's status bar.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[int, int], None]


def progress_bar(console: Console, *, transient: bool = False, disable: bool = False) -> Progress:
    """A bar with a title, the count done of the total and the time taken."""
    # the title may name a team from the roster: shown as typed, never read as rich markup
    return Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(bar_width=24),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=transient, disable=disable)


@contextmanager
def counting(console: Console, title: str, *, transient: bool = True,
             disable: bool = False) -> Iterator[ProgressCallback]:
    """A bar for one long step; yields the ``progress(done, total)`` callback a service takes."""
    with progress_bar(console, transient=transient, disable=disable) as bar:
        task = bar.add_task(title, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


class Steps:
    """One bar per step of a long run (the demo), each left on screen when done."""

    def __init__(self, bar: Progress):
        self.bar = bar

    @contextmanager
    def step(self, title: str, total: int) -> Iterator[Callable[[], None]]:
        task = self.bar.add_task(title, total=max(total, 1))
        try:
            yield lambda: self.bar.advance(task)
        finally:
            self.bar.update(task, completed=max(total, 1))
