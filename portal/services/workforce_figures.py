"""The workforce figures of the snapshot: moved with each change, recounted from the tables, published.

What is counted, per institute and federal fiscal year (the start of a session, the day of an outreach
event, the day a credential was awarded), under the summary figure ``workforce`` with keys
"<fiscal year>:<measure>":

- each audience category: people who attended a session in that category, plus those counted at
  outreach events (engagements: a person at two sessions counts twice, as the annual report counts);
- ``educators_trained``: completions of educator-training programs;
- ``credentials``: credentials awarded.

People counts below ``FEWER_THAN`` are published as "fewer than 10", never as the number. The tables
are margins of one grid (institutes by fiscal years), and a column's total can be worked out from the
other table, so a column with exactly one count below 10 would give that count away: there the smallest
other count of the column is withheld too ("withheld"). Institutes' counts per fiscal year (the inner
cells) are not published at all.
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

def published(counts: list[int]) -> list[int | str]:
    """One column of people counts as published: below 10 in words, and if exactly one is, the smallest
    other count withheld as well, so that the column's total cannot give it away."""
    shown: list[int | str] = [n if n >= FEWER_THAN else SUPPRESSED for n in counts]
    if shown.count(SUPPRESSED) == 1 and len(shown) > 1:
        smallest = min((n, i) for i, n in enumerate(counts) if n >= FEWER_THAN)[1]
        shown[smallest] = WITHHELD
    return shown


def _columns(labels: list, totals: list[Counter]) -> list[list]:
    columns = [published([t[m] for t in totals]) for m in MEASURES]
    return [[label, *(column[i] for column in columns)] for i, label in enumerate(labels)]


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
    return (_columns(list(by_institute), list(by_institute.values())),
            _columns(years, [by_year[y] for y in years]))


_SUPPRESSION = (f'; "{SUPPRESSED}" when the count is below {FEWER_THAN}, never the number; "{WITHHELD}" when it is '
                f"the smallest other count of a column with one count below {FEWER_THAN}, which the column's total "
                "would otherwise give away.")
_MEANINGS = {
    "k12_students": "K-12 students who attended a session or were counted at an outreach event" + _SUPPRESSION,
    "postsecondary_students": "Post-secondary students, counted likewise" + _SUPPRESSION,
    "incumbent_workers": "Incumbent workers, counted likewise" + _SUPPRESSION,
    "educators_trainers": "Educators and trainers, counted likewise" + _SUPPRESSION,
    "veterans": "Veterans, counted likewise" + _SUPPRESSION,
    "educators_trained": "Completions of educator-training programs" + _SUPPRESSION,
    "credentials_awarded": "Credentials awarded on completing a program" + _SUPPRESSION,
}
DICTIONARY = {
    "workforce_by_institute": (
        "Workforce and education, per institute (all fiscal years): people engaged by category (each attendance "
        "of a session, and each person counted at an outreach event), educators trained, credentials awarded.",
        {"institute": "Acronym.", **_MEANINGS}),
    "workforce_by_fiscal_year": (
        "Workforce and education, per federal fiscal year (October to September; a session counts in the year it "
        "starts, a credential in the year it is awarded), for the whole network only.",
        {"fiscal_year": "Named by the year it ends.", **_MEANINGS}),
}
