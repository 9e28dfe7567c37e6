"""Institute staff: the administrators who run an institute's memberships, calls and ledger."""


import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Institute,
    InstituteStaff,
    NoticeKind,
    User,
)
from portal.services import DomainError, audit, notifications
from portal.services.accounts import find_by_email

# Staff ---------------------------------------------------------------------------------------

def is_staff(user: User, institute: Institute) -> bool:
    return db.session.scalar(sa.select(InstituteStaff.id).where(
        InstituteStaff.institute_id == institute.id, InstituteStaff.user_id == user.id)) is not None


def staff_of(institute: Institute) -> list[InstituteStaff]:
    return list(db.session.scalars(
        sa.select(InstituteStaff).where(InstituteStaff.institute_id == institute.id)
        .options(so.joinedload(InstituteStaff.user)).order_by(InstituteStaff.created_at)))


def staff_users(institute: Institute) -> list[User]:
    return [staff.user for staff in staff_of(institute)]


def institutes_administered(user: User) -> list[Institute]:
    return list(db.session.scalars(sa.select(Institute)
                                   .join(InstituteStaff, InstituteStaff.institute_id == Institute.id)
                                   .where(InstituteStaff.user_id == user.id).order_by(Institute.acronym)))


def add_staff(actor: User, institute: Institute, email: str) -> InstituteStaff:
    user = find_by_email(email)
    if user is None or not user.active:
        raise DomainError("email", "No active account has that email address")
    if is_staff(user, institute):
        raise DomainError("email", f"{user.full_name} already administers {institute.acronym}", status=409)
    staff = InstituteStaff(institute_id=institute.id, user_id=user.id, added_by_id=actor.id)
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "institute.staff_added", staff, institute_id=institute.id,
                 details={"user_id": user.id, "email": user.email})
    notifications.notify([user], f"You now administer {institute.acronym}: its applications, ledger, calls and "
                                 "proposals wait for you on your home page.", "institute_admin.manage",
                         actor=actor, notice_kind=NoticeKind.STAFF, slug=institute.slug)
    colleagues = [u for u in staff_users(institute) if u.id != user.id]
    notifications.notify(colleagues, f"{user.full_name} now administers {institute.acronym} with you.",
                         "institute_admin.manage", actor=actor, notice_kind=NoticeKind.STAFF, slug=institute.slug)
    return staff


def remove_staff(actor: User, staff: InstituteStaff) -> None:
    audit.record(actor, "institute.staff_removed", staff, institute_id=staff.institute_id,
                 details={"user_id": staff.user_id})
    notifications.notify([staff.user], f"You no longer administer {staff.institute.acronym}.", "main.index",
                         actor=actor, notice_kind=NoticeKind.STAFF)
    db.session.delete(staff)
