"""Text search over organizations, institutes and projects.

Each searchable table has one search text, a lower-cased join of the columns people look for (names,
cities, states, technology areas). On PostgreSQL a trigram index (pg_trgm) on that text answers both
"contains" and "a word of it is close to" (so a typo such as "addditive" still finds additive
manufacturing); SQLite, for development and tests, matches what the text contains.
"""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Institute, Organization, Proposal, name_key

SPACE: sa.ColumnElement[str] = sa.literal_column("' '")


def text_of(*columns) -> sa.ColumnElement[str]:
    """lower(a || ' ' || b ...): the expression the trigram indexes are built on, exactly."""
    joined = columns[0]
    for column in columns[1:]:
        joined = joined.op("||")(SPACE).op("||")(column)
    return sa.func.lower(joined)


ORGANIZATION_TEXT = text_of(Organization.name, Organization.city, Organization.state)
ORGANIZATION_DESCRIPTION = sa.func.lower(Organization.description)
INSTITUTE_TEXT = text_of(Institute.name, Institute.acronym, Institute.city, Institute.state, Institute.focus)
PROJECT_TEXT = text_of(Proposal.title, Proposal.technology_area)


def matches(text: sa.ColumnElement[str], query: str) -> sa.ColumnElement[bool]:
    """``text`` contains ``query`` (any case and spacing), or on PostgreSQL has a word close to it."""
    words = name_key(query)
    condition = text.contains(words, autoescape=True)
    if db.session.get_bind().dialect.name == "postgresql":
        condition = sa.or_(condition, sa.literal(words, sa.Text).op("<%")(text))
    return condition


def describes(query: str) -> sa.ColumnElement[bool]:
    """The organization's name, city or state match ``query`` (as ``matches``), or its description contains it;
    on PostgreSQL both read trigram indexes."""
    return sa.or_(matches(ORGANIZATION_TEXT, query),
                  ORGANIZATION_DESCRIPTION.contains(" ".join(query.lower().split()), autoescape=True))
