"""The roster a batch's workers look people up in: a SQLite file, the same answers as the roster itself."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from kpisheet.validators.roster_index import RosterIndex
from kpisheet.validators.validate import ValidationSettings, finding_names, with_roster_index
from tests.support.validate_support import rulebook, sample_roster


@pytest.fixture()
def people():
    return {p.employee_id: p for p in sample_roster()}


@pytest.fixture()
def index(people, tmp_path):
    index = RosterIndex.write(people, tmp_path / "roster.sqlite")
    yield index
    index.close()


def test_every_person_comes_back_as_the_roster_has_them(people, index):
    assert len(index) == len(people) == 60  # the sample roster
    assert list(index) == list(people)
    assert {p.employee_id: p for p in index.values()} == people
    for employee_id, person in people.items():
        assert index[employee_id] == person
        assert index.get(employee_id) == person
    assert "E-NOBODY" not in index
    assert index.get("E-NOBODY") is None
    with pytest.raises(KeyError):
        index["E-NOBODY"]


def test_a_person_without_a_post_start_or_manager_comes_back_so(people, tmp_path):
    someone = next(iter(people.values()))
    head = dataclasses.replace(someone, employee_id="E-HEAD", manager_id=None, name="")
    index = RosterIndex.write({"E-HEAD": head}, tmp_path / "one.sqlite")
    assert index["E-HEAD"] == head
    assert index["E-HEAD"].hire_date == someone.hire_date
    assert dict(index.names()) == {}  # no name: findings fall back to the ID, as with the roster itself
    index.close()


def test_names_are_the_names_findings_use(people, index):
    expected = finding_names(rulebook(), people).employees
    assert dict(index.names()) == dict(expected)
    assert index.names().get("E-NOBODY") is None


def test_it_pickles_as_its_path(people, index):
    copy = pickle.loads(pickle.dumps(index))
    assert len(pickle.dumps(index)) < 300
    assert copy[next(iter(people))] == next(iter(people.values()))
    copy.close()
    assert len(index) == len(people)


def test_workers_settings_carry_the_file_not_the_roster(people, tmp_path):
    """What is pickled for every worker stays the same size however large the roster is."""
    someone = next(iter(people.values()))
    bigger = {**people, **{f"X{n:05d}": dataclasses.replace(someone, employee_id=f"X{n:05d}") for n in range(2000)}}
    sizes = {}
    for name, roster in (("sample", people), ("bigger", bigger)):
        settings = ValidationSettings.make(rulebook(), roster, "2026-Q4", cross_file=True)
        (tmp_path / name).mkdir()
        for_workers = with_roster_index(settings, tmp_path / name)
        sizes[name] = (len(pickle.dumps(settings, pickle.HIGHEST_PROTOCOL)),
                       len(pickle.dumps(for_workers, pickle.HIGHEST_PROTOCOL)))
        assert for_workers.names.indicators == settings.names.indicators
        assert len(for_workers.roster) == len(roster)
        for_workers.roster.close()
    assert sizes["bigger"][0] - sizes["sample"][0] > 2000 * 50  # the roster itself: grows with every person
    # the index: a path of the same length and the roster's size (an integer pickled in 1 to 5 bytes)
    assert sizes["bigger"][1] - sizes["sample"][1] <= 4


def test_without_a_roster_nothing_is_written(tmp_path):
    settings = ValidationSettings.make(rulebook(), None, "2026-Q4", cross_file=True)
    assert with_roster_index(settings, tmp_path) is settings
    assert list(tmp_path.iterdir()) == []
