"""Review that respects reviewers' time: nothing typed is lost on a refused submission, the proposal beside the
form, due dates with reminders (once each), and screening out without review."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import authz
from portal.extensions import db
from portal.models import AuditEvent, Notification, Proposal, ProposalStatus, Review
from portal.models.base import utcnow
from portal.services import DomainError, proposals
from portal.services.clock import today
from tests.conftest import login
from tests.factories import make_call, make_institute, make_proposal, make_staff


@pytest.fixture
def under_review(app, ctx, proposal_world):
    """Big Aero's proposal, with abstract, plan and a two-line rubric, under review by Rev One."""
    w = proposal_world
    w.call = make_call(app, w.staff, w.institute, criteria=[("Technical merit", 40), ("Impact", 60)])
    w.proposal = make_proposal(app, w.engineer, w.call, w.lead, abstract="Printed titanium brackets, qualified.",
                               technical_plan="Step one: a new heat treatment.")
    proposals._move(w.staff, w.proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
    w.review = proposals.assign_reviewer(w.staff, w.proposal, w.reviewer_one)
    w.merit, w.impact = w.call.criteria
    db.session.commit()
    return w


def test_a_refused_submission_keeps_every_score_and_comment(client, app, under_review):
    w = under_review
    login(client, w.reviewer_one.email)
    page = client.get(f"/proposals/{w.proposal.id}/review")
    assert b"Printed titanium brackets, qualified." in page.data and b"Step one: a new heat treatment." in page.data
    assert b"Big Aero" in page.data and b"Due by" in page.data
    typed = {"action": "submit", f"score_{w.merit.id}": "4", f"comment_{w.merit.id}": "Sound method, typed with care",
             f"comment_{w.impact.id}": "Impact comment with no score yet"}
    response = client.post(f"/proposals/{w.proposal.id}/review", data=typed)
    assert response.status_code == 422
    assert b"Score every criterion before submitting: Impact" in response.data
    assert b"Sound method, typed with care" in response.data
    assert b"Impact comment with no score yet" in response.data
    assert f'id="score_{w.merit.id}-3" name="score_{w.merit.id}" value="4" checked'.encode() in response.data
    db.session.expire_all()
    assert db.session.get(Review, w.review.id).submitted_at is None and not db.session.get(Review, w.review.id).scores

    typed[f"score_{w.impact.id}"] = "9"  # a tampered score: refused next to its criterion, the rest kept
    response = client.post(f"/proposals/{w.proposal.id}/review", data=typed)
    assert response.status_code == 422 and b"Score each criterion from 1 to 5" in response.data
    assert b"Impact comment with no score yet" in response.data and b"Sound method" in response.data

    typed[f"score_{w.impact.id}"] = "5"
    response = client.post(f"/proposals/{w.proposal.id}/review", data=typed)
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.get(Review, w.review.id)
    assert review.submitted_at is not None
    assert {s.criterion_id: s.comment for s in review.scores}[w.impact.id] == "Impact comment with no score yet"


def test_someone_elses_review_page_is_refused(client, app, under_review):
    w = under_review
    login(client, w.reviewer_two.email)  # not a reviewer of it, and cannot see it at all
    assert client.get(f"/proposals/{w.proposal.id}/review").status_code == 404
    client.post("/logout")
    login(client, w.engineer.email)  # sees the proposal, but it is not their review
    assert client.get(f"/proposals/{w.proposal.id}/review").status_code == 403


def test_a_due_date_is_set_on_assignment_and_checked(app, under_review):
    w = under_review
    assert w.review.due_on == today() + timedelta(days=proposals.REVIEW_DAYS)
    with pytest.raises(DomainError, match="Choose a due date") as caught:
        proposals.assign_reviewer(w.staff, w.proposal, w.reviewer_two, due_on=today())
    assert caught.value.field == "due_on"
    review = proposals.assign_reviewer(w.staff, w.proposal, w.reviewer_two, due_on=today() + timedelta(days=5))
    assert review.due_on == today() + timedelta(days=5)


def reminders(user) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.message).where(
        Notification.user_id == user.id, Notification.message.contains("Your review of"))))


def test_reminders_go_once_before_the_due_date_and_once_when_overdue(app, runner, under_review):
    w = under_review
    assert proposals.remind_reviewers() == 0  # three weeks ahead: nothing yet
    w.review.due_on = today() + timedelta(days=2)
    db.session.commit()
    result = runner.invoke(args=["reviews", "remind"])
    assert result.exit_code == 0 and "1 reminder(s) sent." in result.output
    assert runner.invoke(args=["reviews", "remind"]).output.startswith("0 reminder(s)")  # idempotent
    db.session.expire_all()
    assert [m for m in reminders(w.reviewer_one) if "is due on" in m]
    assert proposals.remind_reviewers(now=utcnow() + timedelta(days=3)) == 1  # overdue now
    assert proposals.remind_reviewers(now=utcnow() + timedelta(days=4)) == 0
    assert len(reminders(w.reviewer_one)) == 2 and any("was due on" in m for m in reminders(w.reviewer_one))
    # a submitted review is never reminded
    w.review.due_on, w.review.reminded_at, w.review.overdue_reminded_at = today(), None, None
    w.review.submitted_at = utcnow()
    assert proposals.remind_reviewers() == 0


def test_staff_screen_out_a_proposal_without_review_and_the_author_is_told(client, app, under_review):
    w = under_review
    login(client, w.staff.email)
    page = client.get(f"/proposals/{w.proposal.id}")
    assert b"Screen out the proposal" in page.data
    response = client.post(f"/proposals/{w.proposal.id}/screen-out", data={"reason": "  "})
    assert response.status_code == 422 and b"Give the reason for screening the proposal out" in response.data
    db.session.expire_all()
    assert db.session.get(Proposal, w.proposal.id).status == ProposalStatus.UNDER_REVIEW
    response = client.post(f"/proposals/{w.proposal.id}/screen-out", data={"reason": "Outside the call's scope"})
    assert response.status_code == 302
    db.session.expire_all()
    proposal = db.session.get(Proposal, w.proposal.id)
    assert proposal.status == ProposalStatus.DECLINED and proposal.decision_note == "Outside the call's scope"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "proposal.screened_out"))
    assert event is not None and event.reason == "Outside the call's scope" and event.actor_id == w.staff.id
    told = db.session.scalars(sa.select(Notification.message).where(Notification.user_id == w.engineer.id)).all()
    assert any("declined without review: Outside the call's scope" in m for m in told)
    assert any("no longer needed" in m for m in reminders(w.reviewer_one) + list(db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == w.reviewer_one.id))))


def test_screening_out_is_refused_once_a_review_is_in_and_to_other_institutes(client, app, under_review):
    w = under_review
    other = make_staff(app, make_institute(app, slug="other", acronym="OI"), email="staff@other.example")
    db.session.commit()
    login(client, other.email)
    assert client.post(f"/proposals/{w.proposal.id}/screen-out", data={"reason": "No"}).status_code == 404
    proposals.save_review(w.reviewer_one, w.review, {c.id: (4, "") for c in w.call.criteria}, final=True)
    with pytest.raises(DomainError, match="decide the proposal on its reviews") as caught:
        proposals.screen_out(w.staff, w.proposal, reason="Too late")
    assert caught.value.status == 409
    assert "screen_out" not in authz.proposal_actions(w.staff, w.proposal)
