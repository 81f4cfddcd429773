"""Excel formula text for the team workbook, mirroring kpisheet.validators.policy.scoring and grading.

Each builder takes cell references (A1 text) and returns a formula string.
The shapes follow :mod:`kpisheet.validators.policy.scoring` term by term (piecewise value,
then MAX(0, ..), MIN(cap, ..), then the rounding rule) so LibreOffice, WPS and
Excel agree with Python to the cent. Every rounded result is
ROUND(ROUND(x, 10), decimals): the inner ROUND removes binary noise, so an
exact decimal tie such as 64.125 (binary 64.12499999999999) is a tie in every
engine and rounds half up (see :mod:`kpisheet.validators.policy.rounding`). Every rulebook number comes from a named cell
on ``_lists`` (see :mod:`.lists_sheet`). An empty input yields "" (never 0),
as Python reports it missing instead of scoring it.

Only functions present in Excel 2010, WPS and LibreOffice are used (see
ALLOWED_FUNCTIONS; a test scans every formula of a built workbook for others).
"""

from __future__ import annotations

from kpisheet.validators.policy.rounding import NOISE_DECIMALS
from kpisheet.validators.rulebook.model import Method

from kpisheet.workbook_templates import lists_sheet as n

ALLOWED_FUNCTIONS = frozenset({
    "ABS", "AND", "COUNT", "COUNTIF", "DATE", "IF", "IFERROR", "INDEX", "INT", "ISNUMBER", "LEN", "LOOKUP", "MATCH",
    "MAX", "MIN", "NOT", "OR", "RANK", "ROUND", "ROWS", "SUM", "SUMPRODUCT", "TEXT", "TRIM",
})


# Shown instead of a score when Python's engine rejects the inputs
# (scoring.InvalidInput): targets out of order, a rating off the scale, a
# negative deduction. Being text, it leaves the weighted score and the total
# empty, as Python leaves them None.
INVALID = "输入无效"


def _any_blank(*refs: str) -> str:
    return "OR(" + ",".join(f"{r}=\"\"" for r in refs) + ")"


def _rounded(expression: str) -> str:
    """The rounding rule: binary noise off at NOISE_DECIMALS places, then half-up to the rulebook's decimals."""
    return f"ROUND(ROUND({expression},{NOISE_DECIMALS}),{n.DECIMALS})"


def _clamped(expression: str) -> str:
    return f"MIN({n.CAP},MAX(0,{expression}))"


def _scored(inputs: tuple[str, ...], invalid: str, value: str) -> str:
    """"" while an input is empty; INVALID for text where a number belongs (the
    reader takes such a cell as no number) or inputs Python rejects; else the value.
    The type test comes first so ``invalid`` never meets text."""
    numbers = "AND(" + ",".join(f"ISNUMBER({r})" for r in inputs) + ")"
    return f'IF({_any_blank(*inputs)},"",IF(NOT({numbers}),"{INVALID}",IF({invalid},"{INVALID}",{value})))'


def targets_in_order(f: str, t: str, c: str, higher: bool) -> str:
    """floor < target <= challenge (higher is better) or the mirror: the order scoring accepts.
    A target equal to the challenge is allowed (e.g. 100% / 100%)."""
    return f"AND({f}<{t},{t}<={c})" if higher else f"AND({f}>{t},{t}>={c})"


def higher_better(a: str, f: str, t: str, c: str) -> str:
    # beyond a target equal to the challenge: the cap (no division by zero)
    above = f"IF({c}={t},{n.CAP},100+({n.CAP}-100)*({a}-{t})/({c}-{t}))"
    raw = f"IF({a}<={t},100*({a}-{f})/({t}-{f}),{above})"
    return _scored((a, f, t, c), f"NOT({targets_in_order(f, t, c, True)})", _rounded(_clamped(raw)))


def lower_better(a: str, f: str, t: str, c: str) -> str:
    above = f"IF({c}={t},{n.CAP},100+({n.CAP}-100)*({t}-{a})/({t}-{c}))"
    raw = f"IF({a}>={t},100*({f}-{a})/({f}-{t}),{above})"
    return _scored((a, f, t, c), f"NOT({targets_in_order(f, t, c, False)})", _rounded(_clamped(raw)))


def count_against_target(a: str, t: str) -> str:
    return _scored((a, t), f"{t}<=0", _rounded(_clamped(f"100*{a}/{t}")))


def deduction(a: str) -> str:
    # no MIN(cap): scoring.deduction only floors at 0
    return _scored((a,), f"{a}<0", _rounded(f"MAX(0,100-{a})"))


def _off_scale(rating_ref: str) -> str:
    return f"OR({rating_ref}<>INT({rating_ref}),{rating_ref}<1,{rating_ref}>ROWS({n.RATING_POINTS}))"


def rating(manager: str, own: str, self_weighted: bool) -> str:
    """The manager's rating in points; blended with the self-rating only when
    the rulebook gives the self-rating a weight (as scoring.rating does)."""
    points = f"INDEX({n.RATING_POINTS},{manager})"
    if not self_weighted:
        return _scored((manager,), _off_scale(manager), _rounded(points))
    own_points = f"INDEX({n.RATING_POINTS},{own})"
    blend = f"(1-{n.SELF_WEIGHT})*{points}+{n.SELF_WEIGHT}*{own_points}"
    return _scored((manager, own), f"OR({_off_scale(manager)},{_off_scale(own)})", _rounded(blend))


def indicator_score(method: Method, *, actual: str, floor: str, target: str, challenge: str,
                    manager: str, own: str, self_weighted: bool) -> str:
    """The score formula of one employee x indicator row, chosen by the indicator's method."""
    method = Method(method)
    if method is Method.higher_better:
        body = higher_better(actual, floor, target, challenge)
    elif method is Method.lower_better:
        body = lower_better(actual, floor, target, challenge)
    elif method is Method.count:
        body = count_against_target(actual, target)
    elif method is Method.deduction:
        body = deduction(actual)
    else:
        body = rating(manager, own, self_weighted)
    return "=" + body


def weighted(score: str, weight: str) -> str:
    """Unrounded, like grading.score_line: score x weight / 100 (the subtotals and
    the total round the sum); empty unless the
    score is a number and the weight a number from 0 to 100."""
    usable = f"AND(ISNUMBER({score}),ISNUMBER({weight}))"
    return f'=IF({usable},IF(AND({weight}>=0,{weight}<=100),{score}*{weight}/100,""),"")'


# --- conditional-format tests of input cells, as validation reads them (checks.scores, checks.goals) ----
# Each is true for text where a number belongs and for a number validation reports; blank is
# the "missing" format's business. IF keeps INT() and comparisons away from text.


def slip(cell: str, numeric_test: str) -> str:
    return f"IF(ISNUMBER({cell}),{numeric_test},LEN(TRIM({cell}))>0)"


def outside(cell: str, low: float, high: float | None, whole: bool = False) -> str:
    """A number below ``low``, above ``high`` or, for whole numbers, with a fraction."""
    tests = [f"{cell}<{low:g}"] + ([f"{cell}>{high:g}"] if high is not None else [])
    if whole:
        tests.append(f"{cell}<>INT({cell})")
    return slip(cell, f"OR({','.join(tests)})")


def rate_off_scale(actual: str, floor: str, higher: bool) -> str:
    """A rate cell outside 0%..100% (95 typed for 95%, 135%, a negative rate), or, for a higher-better
    rate, a value below the floor that would be at or above it a hundred times larger (0.93% for 93%)."""
    off = f"{actual}<0,{actual}>1"
    if higher:
        off += f",AND({actual}>0,{actual}<{floor},{actual}*100>={floor},{actual}*100<=1)"
    return slip(actual, f"OR({off})")


def rating_off_scale(cell: str) -> str:
    return slip(cell, f"OR({cell}<>INT({cell}),{cell}<1,{cell}>ROWS({n.RATING_POINTS}))")


def outside_dates(cell: str, first, last) -> str:
    """A date cell holding text, or a date outside [first, last] (both datetime.date)."""
    return slip(cell, f"OR({cell}<DATE({first.year},{first.month},{first.day}),"
                      f"{cell}>DATE({last.year},{last.month},{last.day}))")


def not_a_date(cell: str) -> str:
    return slip(cell, "FALSE")


def not_a_choice(cell: str, choices: str) -> str:
    """Text that is not one of a dropdown's choices (a named range)."""
    return f"AND(LEN(TRIM({cell}))>0,COUNTIF({choices},{cell})=0)"


def copy_of(ref: str) -> str:
    """A cell that shows another cell, blank as blank (not 0)."""
    return f'=IF({ref}="","",{ref})'


def weight_sum(weights: str) -> str:
    return f"=SUM({weights})"


def _complete(weighted_range: str) -> str:
    """True when every weighted score of the range is a number."""
    return f"COUNT({weighted_range})=ROWS({weighted_range})"


def subtotal(weighted_range: str) -> str:
    return f'=IF({_complete(weighted_range)},{_rounded(f"SUM({weighted_range})")},"")'


def bonus(commendations: str) -> str:
    # as grading.bonus_points: no number (empty or text) means none, negative counts add nothing
    return f'=MIN({n.BONUS_CAP},MAX(0,IF(ISNUMBER({commendations}),{commendations},0))*{n.BONUS_PER})'


def total(weighted_range: str, bonus_ref: str) -> str:
    return f'=IF({_complete(weighted_range)},{_rounded(f"SUM({weighted_range})+{bonus_ref}")},"")'


def vetoed(veto: str) -> str:
    return f"AND({veto}<>\"\",{veto}<>{n.VETO_NO})"


def grade(total_ref: str, veto: str) -> str:
    """Veto grade if vetoed; else the best band whose minimum the total reaches
    (the lowest band below every minimum, as grading.grade_for)."""
    band = (f"IF({total_ref}<INDEX({n.GRADE_MINS},1),INDEX({n.GRADE_LETTERS},1),"
            f"LOOKUP({total_ref},{n.GRADE_MINS},{n.GRADE_LETTERS}))")
    return f'=IF({total_ref}="","",IF({vetoed(veto)},{n.VETO_GRADE},{band}))'


def coefficient(grade_ref: str) -> str:
    return f'=IF({grade_ref}="","",INDEX({n.GRADE_COEFFS},MATCH({grade_ref},{n.GRADE_LETTERS},0)))'


def rank(total_ref: str, totals_range: str) -> str:
    return f'=IF({total_ref}="","",RANK({total_ref},{totals_range}))'


# --- team distribution --------------------------------------------------------

def count_of(grades_range: str, grade_refs: list[str]) -> str:
    return "=" + "+".join(f"COUNTIF({grades_range},{g})" for g in grade_refs)


def graded(grades_range: str, letters_name: str = n.GRADE_LETTERS) -> str:
    """How many employees have a grade yet."""
    return f"=SUMPRODUCT(COUNTIF({grades_range},{letters_name}))"


def share(count_ref: str, graded_ref: str) -> str:
    return f'=IF({graded_ref}=0,"",{count_ref}/{graded_ref})'


def within(share_ref: str, low: str | None, high: str | None) -> str:
    """OK / 超出 / 不足 status of a share against its quota; blank until someone is graded."""
    verdict = '"OK"'
    if low:
        verdict = f'IF({share_ref}<{low},"不足 Under",{verdict})'
    if high:
        verdict = f'IF({share_ref}>{high},"超出 Over",{verdict})'
    return f'=IF({share_ref}="","",{verdict})'


def small_team_status(count_ref: str, team_size: str) -> str:
    return (f'=IF({team_size}>{n.SMALL_TEAM_MAX},"不适用 N/A",'
            f'IF({count_ref}>{n.SMALL_TEAM_S_MAX},"超出 Over","OK"))')


# --- personal form lookups ------------------------------------------------------

def match_row(id_ref: str, ids_range: str) -> str:
    """Position of the chosen employee in a column, or "" if none is chosen/found."""
    return f'=IF({id_ref}="","",IFERROR(MATCH({id_ref},{ids_range},0),""))'


def line_position(first_ref: str, offset: int, id_ref: str, ids_range: str) -> str:
    """Position of the employee's ``offset``-th indicator row, "" past their last."""
    pos = f"{first_ref}+{offset}"
    return (f'=IF({first_ref}="","",IF({pos}>ROWS({ids_range}),"",'
            f'IF(INDEX({ids_range},{pos})={id_ref},{pos},"")))')


def pick(range_: str, pos_ref: str) -> str:
    """INDEX that shows an empty source cell as "" instead of 0."""
    item = f"INDEX({range_},{pos_ref})"
    return f'=IF({pos_ref}="","",IF({item}="","",{item}))'


def pick_as_unit(range_: str, pos_ref: str, unit_range: str, percent_label: str) -> str:
    """A value shown as text with its unit: percents as 95.0%, others as '4 小时'."""
    item = f"INDEX({range_},{pos_ref})"
    unit = f"INDEX({unit_range},{pos_ref})"
    return (f'=IF({pos_ref}="","",IF({item}="","",'
            f'IF({unit}="{percent_label}",TEXT({item},"0.0#%"),{item}&" "&{unit})))')


def pip_pick(range_: str, pos_ref: str, grade_ref: str, not_needed: str) -> str:
    """An improvement-plan field: blank until graded, ``not_needed`` for grades
    outside the rulebook's PIP grades (C and D by default), else the entry."""
    item = f"INDEX({range_},{pos_ref})"
    return (f'=IF(OR({pos_ref}="",{grade_ref}=""),"",IF(COUNTIF({n.PIP_GRADES},{grade_ref})=0,"{not_needed}",'
            f'IF({item}="","",{item})))')
