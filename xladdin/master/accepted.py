"""Who each team's accepted submission lists: what a file claiming that team must agree with.

Without a roster nothing in a submitted file can be checked against who
really belongs to a team; the team's submission HR already accepted is the
next best witness. It is asked of the cycle record (the results whose source
is the team's accepted file, 来源状态 = 有效).
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from kpisheet.validators.checks.team import AcceptedTeam, AcceptedTeams

from kpisheet.xladdin.record import schema as S, words as W
from kpisheet.xladdin.record.store import Store


def accepted_submissions(store: Store) -> AcceptedTeams:
    """(period, department, team) -> the employees and file of the team's accepted submission in the record."""
    r, s = S.results, S.submissions
    members: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    sources: dict[tuple[str, str, str], str] = {}
    query = (sa.select(r.c.period, r.c.department, r.c.team, r.c.employee_id, s.c.path)
             .join(s, s.c.id == r.c.submission_id)
             .where(s.c.status == W.ACCEPTED, r.c.source_status == W.SOURCE_PRESENT))
    with store.reading() as conn:
        for row in conn.execute(query):
            key = (str(row.period), str(row.department or ""), str(row.team or ""))
            members[key].add(str(row.employee_id))
            sources[key] = row.path
    return {key: AcceptedTeam(sources[key], frozenset(ids)) for key, ids in members.items()}
