"""Build samples/company/roster.xlsx: the example company's seeded roster (about 280 people, three departments).

    python samples/company/make_roster.py [OUT] [--employees N]

The generator lives in the package (:mod:`kpisheet.xladdin.demo.company_roster`), so that
``kpisheet demo --company`` makes the very same roster when installed without this folder.
The same seed always gives the same file; ``--employees N`` grows the same departments to
about N people (the company benchmark's roster).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kpisheet.xladdin.demo.company_roster import write_company_roster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path(__file__).with_name("roster.xlsx"))
    parser.add_argument("--employees", type=int, default=None)
    args = parser.parse_args()
    write_company_roster(args.out, args.employees)


if __name__ == "__main__":
    main()
