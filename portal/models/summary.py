"""Summary figures behind the public snapshot, kept current in the same transaction as each change."""

from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base

NETWORK = 0  # the scope of a network-wide figure; any other scope is an institute's id


class Figure(StrEnum):
    """What a summary row counts. Keys are described beside each."""

    MEMBERS_BY_GROUP = "members.group"  # key: sector group; organizations with an active membership
    MEMBERS_BY_STATE = "members.state"  # key: two-letter state; likewise
    PROPOSALS_BY_STATUS = "proposals.status"  # key: status; proposals past the draft stage
    PROJECTS_BY_AREA = "projects.area"  # key: technology area; approved, active and completed projects
    READINESS = "readiness"  # keys: completed, trl_start, trl_reached, mrl_start, mrl_reached (sums)
    MONEY = "money"  # key: "<fiscal year>:<pledged|received|verified|cancelled>", cents (institutes only)
    FEDERAL = "federal"  # key: fiscal year, cents (institutes only)
    PLEDGERS = "pledgers"  # key: "all" or a fiscal year; organizations with pledges
    MEMBERSHIP_DAYS = "days.membership"  # key: whole days from application to decision; how many
    PROPOSAL_DAYS = "days.proposal"  # key: whole days from first submission to decision; how many
    # key: "<fiscal year>:<measure>" (institutes only); measures: each audience category (people who
    # attended a session, plus those counted at outreach events), educators_trained, credentials
    WORKFORCE = "workforce"


class Summary(Base):
    """One running figure: a count or a sum of cents, for the network or one institute.

    Only ``portal.services.summary`` writes these rows, always by adding a difference in the same
    transaction as the change that causes it, so concurrent writers never lose an update; the CHECK
    makes a bookkeeping error that would take a figure below zero fail loudly instead of showing.
    """

    __tablename__ = "summary_figures"
    __table_args__ = (
        sa.CheckConstraint("value >= 0", name="value_not_negative"),
        sa.Index("ix_summary_figures_figure_scope", "figure", "scope"),
    )

    scope: so.Mapped[int] = so.mapped_column(primary_key=True)
    figure: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    value: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<Summary {self.scope} {self.figure} {self.key}={self.value}>"
