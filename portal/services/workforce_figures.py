"""The workforce figures of the snapshot: moved with each change, recounted from the tables, published.

What is counted, per institute and federal fiscal year, under the summary figure ``workforce`` with keys
"<fiscal year>:<measure>" (the definitions the data dictionary publishes, ``DEFINITIONS``, say the same):

- each audience category: sign-ups marked as attended in that category (the one the person chose when
  signing up) in sessions of the institute's programs, in the fiscal year of the session's start (its date in
  UTC), plus the people counted in that category at the institute's outreach events, in the fiscal year of
  the day held. Engagements, not people: a person at two sessions counts twice, as the annual report counts;
- ``educators_trained``: sign-ups with completion recorded in sessions of educator-training programs (by
  the program's kind now), in the fiscal year of the session's start, whatever category the person chose;
- ``credentials``: credentials issued, in the fiscal year of the day awarded.

A participant who deletes their records stays counted (the rows stay, unnamed). People counts below 10
are published as "fewer than 10", never as the number; see ``published`` for the cells withheld beside them.
"""

from collections import Counter
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Audience,
    Credential,
    Figure,
    OutreachEvent,
    Program,
    ProgramKind,
    ProgramSession,
    Signup,
)

EDUCATORS_TRAINED = "educators_trained"
CREDENTIALS = "credentials"
MEASURES = (*(a.value for a in Audience), EDUCATORS_TRAINED, CREDENTIALS)
FEWER_THAN = 10
SUPPRESSED = f"fewer than {FEWER_THAN}"
WITHHELD = "withheld"
COLUMNS = {
    "k12": "K-12 students", "postsecondary": "Post-secondary students", "incumbent": "Incumbent workers",
    "educator": "Educators and trainers", "veteran": "Veterans",
    EDUCATORS_TRAINED: "Educators trained (completed an educator-training program)",
    CREDENTIALS: "Credentials awarded",
}


def _where(signup: Signup) -> tuple[int, int, ProgramKind]:
    row = db.session.execute(sa.select(Program.institute_id, ProgramSession.fiscal_year, Program.kind)
                             .join(ProgramSession, ProgramSession.program_id == Program.id)
                             .where(ProgramSession.id == signup.session_id)).one()
    return row.institute_id, row.fiscal_year, row.kind


Changes = dict[tuple[int, str, str], int]  # what summary.add takes


def _figure(institute_id: int, fiscal_year: int, measure: str, step: int) -> Changes:
    return {(institute_id, Figure.WORKFORCE, f"{fiscal_year}:{measure}"): step}


def attendance_moved(signup: Signup, step: int) -> Changes:
    """The change to the figures when a sign-up's attendance is recorded (+1) or taken back (-1)."""
    institute_id, year, _ = _where(signup)
    return _figure(institute_id, year, str(signup.category), step)


def completed(signup: Signup) -> Changes:
    institute_id, year, kind = _where(signup)
    return _figure(institute_id, year, EDUCATORS_TRAINED, 1) if kind == ProgramKind.EDUCATOR_TRAINING else {}


def credential_issued(credential: Credential) -> Changes:
    return _figure(credential.institute_id, credential.fiscal_year, CREDENTIALS, 1)


def outreach_recorded(event: OutreachEvent) -> Changes:
    return {(event.institute_id, Figure.WORKFORCE, f"{event.fiscal_year}:{audience.value}"): count
            for audience, count in event.counts().items() if count}


def recount(session: so.Session | so.scoped_session[Any]) -> Counter:
    """Every workforce figure from the tables: {(institute, "workforce", key): value}."""
    figures: Counter = Counter()
    if not sa.inspect(session.connection()).has_table(Signup.__tablename__):
        return figures  # a migration older than the workforce tables recounts the summary
    where = (sa.select(Program.institute_id, ProgramSession.fiscal_year).select_from(Signup)
             .join(ProgramSession, ProgramSession.id == Signup.session_id)
             .join(Program, Program.id == ProgramSession.program_id))
    for institute_id, year, category, n in session.execute(
            where.add_columns(Signup.category, sa.func.count()).where(Signup.attended)
            .group_by(Program.institute_id, ProgramSession.fiscal_year, Signup.category)):
        figures[(institute_id, str(Figure.WORKFORCE), f"{year}:{category}")] += n
    for institute_id, year, n in session.execute(
            where.add_columns(sa.func.count()).where(Signup.completed_at.is_not(None),
                                                     Program.kind == ProgramKind.EDUCATOR_TRAINING)
            .group_by(Program.institute_id, ProgramSession.fiscal_year)):
        figures[(institute_id, str(Figure.WORKFORCE), f"{year}:{EDUCATORS_TRAINED}")] += n
    for institute_id, year, n in session.execute(
            sa.select(Credential.institute_id, Credential.fiscal_year, sa.func.count())
            .group_by(Credential.institute_id, Credential.fiscal_year)):
        figures[(institute_id, str(Figure.WORKFORCE), f"{year}:{CREDENTIALS}")] += n
    sums = [sa.func.sum(OutreachEvent.__table__.c[a.value]) for a in Audience]
    for institute_id, year, *counts in session.execute(
            sa.select(OutreachEvent.institute_id, OutreachEvent.fiscal_year, *sums)
            .group_by(OutreachEvent.institute_id, OutreachEvent.fiscal_year)):
        for audience, n in zip(Audience, counts, strict=False):
            figures[(institute_id, str(Figure.WORKFORCE), f"{year}:{audience.value}")] += int(n or 0)
    return figures


# Publishing ------------------------------------------------------------------------------------
#
# Each measure is published twice, as two margins of one hidden grid (institutes by fiscal years): a column
# of the table by institute and a column of the table by fiscal year. Both sum to the same network total,
# and that one equation is all a reader can combine (inner cells are never published). A reader who knows
# this rule (it is in the data dictionary) knows of each cell:
#
# - a number: exactly that;
# - "fewer than 10": between 0 and 9;
# - "withheld": at least 10, and at least every number shown in its column (the largest go first);
# - when every cell of a measure in both tables is "withheld" (the last resort below): nothing.
#
# The rule withholds the largest shown counts, one at a time, until each "fewer than 10" could be any of
# 0 to 9 given everything above (``protection`` works that out); when nothing is left to withhold and some
# count below 10 could still be worked out exactly, every cell of the measure is withheld.

Cell = int | str


def _bounds(column: list[Cell], *, everything_withheld: bool) -> list[tuple[int, float]]:
    """What a reader knows of each cell of one published column: (lowest, highest) possible."""
    if everything_withheld:
        return [(0, float("inf")) for _ in column]
    shown = [c for c in column if isinstance(c, int)]
    floor = max([FEWER_THAN, *shown])
    return [(c, c) if isinstance(c, int) else (0, FEWER_THAN - 1) if c == SUPPRESSED else (floor, float("inf"))
            for c in column]


def protection(by_institute: list[Cell], by_year: list[Cell]) -> dict[tuple[int, int], tuple[float, float]]:
    """For each "fewer than 10" cell, (side, row) with side 0 for the table by institute and 1 for the table by
    fiscal year: the lowest and highest count a reader can work out from both published columns and the
    equal totals. Protected means (0, 9)."""
    everything_withheld = all(c == WITHHELD for c in [*by_institute, *by_year])
    sides = (_bounds(by_institute, everything_withheld=everything_withheld),
             _bounds(by_year, everything_withheld=everything_withheld))
    ranges = {}
    for side, column in enumerate((by_institute, by_year)):
        own, other = sides[side], sides[1 - side]
        for row, cell in enumerate(column):
            if cell != SUPPRESSED:
                continue
            others = [b for i, b in enumerate(own) if i != row]
            # the cell = (sum of the other column) - (sum of the rest of its own column)
            low = sum(lo for lo, _ in other) - sum(hi for _, hi in others)
            high = sum(hi for _, hi in other) - sum(lo for lo, _ in others)
            ranges[(side, row)] = (max(0, low), min(FEWER_THAN - 1, high))
    return ranges


def _withhold_largest(column: list[Cell], counts: list[int]) -> bool:
    shown = [(n, -i) for i, (n, c) in enumerate(zip(counts, column, strict=True)) if isinstance(c, int)]
    if not shown:
        return False
    column[-max(shown)[1]] = WITHHELD
    return True


def published(by_institute: list[int], by_year: list[int]) -> tuple[list[Cell], list[Cell]]:
    """One measure's two columns as published, from the counts (whose totals are equal): counts below 10 in
    words, and as many of the largest other counts withheld as it takes for none of them to be worked out."""
    counts = (by_institute, by_year)
    columns: tuple[list[Cell], list[Cell]] = ([n if n >= FEWER_THAN else SUPPRESSED for n in by_institute],
                                              [n if n >= FEWER_THAN else SUPPRESSED for n in by_year])
    for side in (0, 1):  # a count below 10 beside a shown total is given away by the others of its column
        if SUPPRESSED in columns[side]:
            _withhold_largest(columns[side], counts[side])
    while True:
        weak = [cell for cell, bounds in protection(*columns).items() if bounds != (0, FEWER_THAN - 1)]
        if not weak:
            return columns
        side = weak[0][0]
        if not (_withhold_largest(columns[side], counts[side])
                or _withhold_largest(columns[1 - side], counts[1 - side])):
            break
    if any(low == high for low, high in protection(*columns).values()):  # the last resort
        return [WITHHELD] * len(by_institute), [WITHHELD] * len(by_year)
    return columns


def tables(per_institute: dict[str, dict[str, int]]) -> tuple[list[list], list[list]]:
    """The two published tables from {institute acronym: {"<year>:<measure>": value}}: by institute (all
    years) and by fiscal year (the institutes given, together)."""
    by_institute: dict[str, Counter] = {}
    by_year: dict[int, Counter] = {}
    for acronym, figures in per_institute.items():
        totals = by_institute.setdefault(acronym, Counter())
        for key, value in figures.items():
            year, measure = key.split(":")
            totals[measure] += value
            by_year.setdefault(int(year), Counter())[measure] += value
    years = sorted(by_year)
    institute_columns, year_columns = [], []
    for measure in MEASURES:
        first, second = published([by_institute[a][measure] for a in by_institute],
                                  [by_year[y][measure] for y in years])
        institute_columns.append(first)
        year_columns.append(second)
    return ([[acronym, *(column[i] for column in institute_columns)] for i, acronym in enumerate(by_institute)],
            [[year, *(column[i] for column in year_columns)] for i, year in enumerate(years)])


DISCLOSURE = (
    f'A count below {FEWER_THAN} (0 included) reads "{SUPPRESSED}", never the number. Each measure is published '
    "twice, by institute (all years) and by fiscal year (all institutes), and both columns add up to the same "
    "network total; so beside a count below 10 the largest other counts of its column are withheld, one at a "
    f'time, until no count below {FEWER_THAN} can be narrowed from that total: "{WITHHELD}" is a count of at '
    "least 10 and at least every number shown in its column, and may be in either table. If even that cannot "
    "protect a count below 10 (a few tiny columns), every cell of the measure in both tables reads "
    f'"{WITHHELD}". Inner cells (one institute in one year) are never published.')
_ENGAGED = ("Engagements, not people (a person at two sessions counts twice): sign-ups marked as attended whose "
            "person chose this category when signing up, in sessions of the institute's programs, plus the people "
            "counted in this category at the institute's outreach events.")
DEFINITIONS = {
    "k12_students": "K-12 students. " + _ENGAGED,
    "postsecondary_students": "Post-secondary students. " + _ENGAGED,
    "incumbent_workers": "Incumbent workers. " + _ENGAGED,
    "educators_trainers": "Educators and trainers. " + _ENGAGED,
    "veterans": "Veterans. " + _ENGAGED,
    "educators_trained": "Sign-ups with completion recorded in sessions of the institute's educator-training "
                         "programs, whatever category the person chose; a program changed to or from educator "
                         "training moves its completions with it.",
    "credentials_awarded": "Credentials issued by the institute (each needs a recorded completion).",
}
NOTES = (  # the data dictionary and the CSV's README state these beside the tables
    "A session counts in the federal fiscal year (1 October to 30 September, named by the year it ends) of its "
    "start date in UTC, an outreach event in that of the day it was held, a credential in that of the day it "
    "was awarded. A participant who deletes their workforce records stays counted, unnamed.",
    DISCLOSURE,
)
DICTIONARY = {
    "workforce_by_institute": (
        "Workforce and education, per institute (all fiscal years together): people engaged by category, "
        "educators trained, credentials awarded.", {"institute": "Acronym.", **DEFINITIONS}),
    "workforce_by_fiscal_year": (
        "Workforce and education, per federal fiscal year, for the whole network (all institutes together).",
        {"fiscal_year": "Named by the year it ends.", **DEFINITIONS}),
}
