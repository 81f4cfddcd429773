"""Build samples/roster.xlsx: a seeded, realistic roster of one after-sales department.

    python samples/make_roster.py [OUT]

The generator lives in the package (:mod:`kpisheet.xladdin.demo.sample_roster`), so that
``kpisheet demo`` makes the very same roster when installed without this
folder. The same seed always gives the same file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kpisheet.xladdin.demo.sample_roster import write_sample_roster


def main(out: Path) -> None:
    write_sample_roster(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("roster.xlsx"))
