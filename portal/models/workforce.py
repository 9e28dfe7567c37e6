"""Workforce and education: programs, their sessions, sign-ups, credentials and outreach counts."""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, utcnow
from portal.models.imports import batch_column

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.institute import Institute
    from portal.models.user import User


class ProgramKind(StrEnum):
    COURSE = "course"
    APPRENTICESHIP = "apprenticeship"
    INTERNSHIP = "internship"
    WORKSHOP = "workshop"
    EDUCATOR_TRAINING = "educator_training"
    OUTREACH = "outreach"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Audience(StrEnum):
    """The categories the annual report counts people by."""

    K12 = "k12"
    POSTSECONDARY = "postsecondary"
    INCUMBENT = "incumbent"
    EDUCATOR = "educator"
    VETERAN = "veteran"

    @property
    def label(self) -> str:
        return AUDIENCE_LABELS[self]


AUDIENCE_LABELS = {
    Audience.K12: "K-12 students",
    Audience.POSTSECONDARY: "Post-secondary students",
    Audience.INCUMBENT: "Incumbent workers",
    Audience.EDUCATOR: "Educators and trainers",
    Audience.VETERAN: "Veterans",
}


class Format(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return "In person" if self is Format.IN_PERSON else "Online"


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Program(Base):
    """What an institute offers: a course, apprenticeship, internship, workshop, educator training or outreach."""

    __tablename__ = "programs"
    __table_args__ = (sa.CheckConstraint("cost_cents >= 0", name="cost_not_negative"),
                      sa.CheckConstraint("length(title) > 0", name="titled"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    kind: so.Mapped[ProgramKind] = so.mapped_column(enum_column(ProgramKind, "program_kind"))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    format: so.Mapped[Format] = so.mapped_column(enum_column(Format, "program_format"))
    credential: so.Mapped[str] = so.mapped_column(sa.String(200), default="")  # empty: none offered
    cost_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    partners: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")  # partner organizations, as named
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    institute: so.Mapped["Institute"] = so.relationship()
    audiences: so.Mapped[list["ProgramAudience"]] = so.relationship(
        cascade="all, delete-orphan", order_by="ProgramAudience.audience", lazy="selectin")

    @property
    def audience_values(self) -> list[Audience]:
        return [Audience(a.audience) for a in self.audiences]

    def __repr__(self) -> str:
        return f"<Program {self.id} {self.kind} institute={self.institute_id}>"


class ProgramAudience(Base):
    """One audience category a program is meant for."""

    __tablename__ = "program_audiences"

    program_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programs.id"), primary_key=True)
    audience: so.Mapped[Audience] = so.mapped_column(enum_column(Audience, "program_audience"), primary_key=True)

    def __repr__(self) -> str:
        return f"<ProgramAudience {self.program_id} {self.audience}>"


class ProgramSession(Base):
    """One dated run of a program, at a place or online, with a number of seats.

    ``seats_taken`` moves with every confirmed sign-up in the same transaction, by a conditional UPDATE;
    the CHECK makes the database refuse more confirmed people than seats, however many sign up at once.
    """

    __tablename__ = "program_sessions"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="within_capacity"),
        sa.CheckConstraint("fiscal_year BETWEEN 2012 AND 2100", name="fiscal_year_range"),
        sa.CheckConstraint("online OR length(place) > 0", name="place_or_online"),
        sa.Index("ix_program_sessions_program_starts", "program_id", "starts_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    program_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programs.id"))
    starts_at: so.Mapped[datetime] = so.mapped_column(index=True)
    ends_at: so.Mapped[datetime]
    fiscal_year: so.Mapped[int]  # of the start, in UTC: what the figures count it under
    online: so.Mapped[bool] = so.mapped_column(default=False)
    place: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    state: so.Mapped[str] = so.mapped_column(sa.String(2), default="")  # where it is held; empty online
    capacity: so.Mapped[int]
    seats_taken: so.Mapped[int] = so.mapped_column(default=0)
    reminded_at: so.Mapped[datetime | None]
    cancelled_at: so.Mapped[datetime | None]  # the whole session, by the institute
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    program: so.Mapped[Program] = so.relationship()

    @property
    def seats_left(self) -> int:
        return self.capacity - self.seats_taken

    def __repr__(self) -> str:
        return f"<ProgramSession {self.id} program={self.program_id} {self.starts_at:%Y-%m-%d}>"


class Signup(Base):
    """A person's place (or place on the waitlist) in a session, then their attendance and completion.

    ``user_id`` is emptied when the person deletes their workforce records: the row stays, unnamed, so
    the published counts do not move.
    """

    __tablename__ = "session_signups"
    __table_args__ = (
        # one live sign-up per person and session; cancelled ones may be followed by a new one
        sa.Index("uq_session_signups_live", "session_id", "user_id", unique=True,
                 postgresql_where=sa.text("status <> 'cancelled'"), sqlite_where=sa.text("status <> 'cancelled'")),
        sa.Index("ix_session_signups_session_status", "session_id", "status", "id"),
        sa.CheckConstraint("completed_at IS NULL OR attended", name="completed_only_if_attended"),
        sa.CheckConstraint("NOT attended OR status = 'confirmed'", name="attended_only_if_confirmed"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("program_sessions.id"))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    category: so.Mapped[Audience] = so.mapped_column(enum_column(Audience, "signup_category"))
    status: so.Mapped[SignupStatus] = so.mapped_column(enum_column(SignupStatus, "signup_status"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    cancelled_at: so.Mapped[datetime | None]
    attended: so.Mapped[bool] = so.mapped_column(default=False)
    completed_at: so.Mapped[datetime | None]
    reminded_at: so.Mapped[datetime | None]  # told the session is near (a place promoted later is told too)

    session: so.Mapped[ProgramSession] = so.relationship()
    user: so.Mapped["User | None"] = so.relationship()

    def __repr__(self) -> str:
        return f"<Signup {self.id} session={self.session_id} {self.status}>"


class Credential(Base):
    """A credential earned by completing a session; ``code`` is what an employer checks publicly."""

    __tablename__ = "credentials"
    __table_args__ = (sa.CheckConstraint("fiscal_year BETWEEN 2012 AND 2100", name="fiscal_year_range"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    signup_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("session_signups.id"), unique=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    awarded_on: so.Mapped[date]
    fiscal_year: so.Mapped[int]
    issued_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    issued_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    institute: so.Mapped["Institute"] = so.relationship()
    signup: so.Mapped[Signup] = so.relationship()

    def __repr__(self) -> str:
        return f"<Credential {self.code}>"


class OutreachEvent(Base):
    """An event where nobody signs up by name (a K-12 day): people counted by category only."""

    __tablename__ = "outreach_events"
    __table_args__ = (
        sa.CheckConstraint("k12 >= 0 AND postsecondary >= 0 AND incumbent >= 0 AND educator >= 0 AND veteran >= 0",
                           name="counts_not_negative"),
        sa.CheckConstraint("k12 + postsecondary + incumbent + educator + veteran > 0", name="someone_counted"),
        sa.CheckConstraint("fiscal_year BETWEEN 2012 AND 2100", name="fiscal_year_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    held_on: so.Mapped[date]
    fiscal_year: so.Mapped[int]
    k12: so.Mapped[int] = so.mapped_column(default=0)
    postsecondary: so.Mapped[int] = so.mapped_column(default=0)
    incumbent: so.Mapped[int] = so.mapped_column(default=0)
    educator: so.Mapped[int] = so.mapped_column(default=0)
    veteran: so.Mapped[int] = so.mapped_column(default=0)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    recorded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    import_batch_id: so.Mapped[int | None] = batch_column()

    institute: so.Mapped["Institute"] = so.relationship()

    def counts(self) -> dict[Audience, int]:
        return {audience: getattr(self, audience.value) for audience in Audience}

    def __repr__(self) -> str:
        return f"<OutreachEvent {self.id} institute={self.institute_id} {self.held_on}>"
