"""Annotated copies for a whole batch, in worker processes (openpyxl is slow and the files are untrusted).

Each copy's work (source, findings, target) goes to the worker as a small job
file, because :func:`kpisheet.validators.reading.safe_read.run_isolated` hands a worker only a
path. Files the guard refused get no copy: there is nothing safe to open.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Sequence

from kpisheet.xladdin.kit.files import make_output_folder
from kpisheet.validators.report import FileReport

ANNOTATABLE = ("xlsx", "xlsm")


def copy_names(reports: Sequence[FileReport], folder: Path) -> dict[str, Path]:
    """A target in ``folder`` for each annotatable report: the file's name, numbered when two share it."""
    taken: set[str] = set()
    names = {}
    for r in reports:
        if r.extra.get("kind") not in ANNOTATABLE:
            continue
        source = Path(r.path)
        name, n = f"{source.stem}.xlsx", 1
        while name.lower() in taken:
            n += 1
            name = f"{source.stem}_{n}.xlsx"
        taken.add(name.lower())
        names[r.path] = folder / name
    return names


def annotate_reports(reports: Sequence[FileReport], folder: str | Path, *, jobs: int | None = None
                     ) -> dict[str, str | None]:
    """path -> the annotated copy written, None for a file that could not be read, '!reason' for a failed copy."""
    from kpisheet.validators.reading.safe_read import WorkerFailure, run_isolated

    folder = Path(folder)
    make_output_folder(folder)
    targets = copy_names(reports, folder)
    out: dict[str, str | None] = {r.path: None for r in reports}
    if not targets:
        return out
    with tempfile.TemporaryDirectory(prefix="kpisheet-annotate-") as work:
        jobs_by_file = {}
        for i, r in enumerate(reports):
            if r.path in targets:
                job = Path(work) / f"{i}.job"
                job.write_bytes(pickle.dumps((r.path, tuple(r.findings), str(targets[r.path]))))
                jobs_by_file[str(job)] = r.path
        for job, outcome in run_isolated(annotate_job, list(jobs_by_file), jobs):
            path = jobs_by_file[str(job)]
            if isinstance(outcome, WorkerFailure):
                out[path] = "!" + "; ".join(f.message_en for f in outcome.findings)
            else:
                out[path] = outcome
    return out


def annotate_job(job: str) -> str:
    """Worker side: make one copy; the copy's path, or '!' and why not."""
    from kpisheet.xladdin.annotate.copy import AnnotateError, annotate_copy

    source, findings, target = pickle.loads(Path(job).read_bytes())
    try:
        return str(annotate_copy(source, findings, target))
    except AnnotateError as error:
        return "!" + str(error)
