"""Readiness is published only after a check: the team reports milestones, the institute accepts them, and the
institute signs the project off with levels never below the start."""

import pytest
import sqlalchemy as sa

from portal import authz
from portal.extensions import db
from portal.models import AuditEvent, Milestone, Notification, ProposalStatus
from portal.services import DomainError, proposals
from portal.services.clock import add_months, long_date, today
from tests.conftest import login
from tests.factories import make_call, make_proposal


@pytest.fixture
def project(app, ctx, proposal_world):
    """An approved proposal (TRL 4 to 6, MRL 4 to 6, two milestones) that the lead has just started."""
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    proposal = make_proposal(app, w.engineer, call, w.lead, trl_start=4, trl_target=6, mrl_start=4, mrl_target=6,
                             duration_months=18,
                             milestones=[(6, "Alloy trials", "Report"), (18, "Flight part", "Part")])
    for before, after in ((ProposalStatus.DRAFT, ProposalStatus.SUBMITTED),
                          (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW),
                          (ProposalStatus.UNDER_REVIEW, ProposalStatus.APPROVED)):
        proposals._move(w.staff, proposal, after, [before])  # the review itself is tested elsewhere
    proposals.start_project(w.engineer, proposal)
    return proposal


def told(user, text: str) -> bool:
    return any(text in m for m in db.session.scalars(sa.select(Notification.message)
                                                    .where(Notification.user_id == user.id)))


def test_milestones_fall_due_their_month_after_the_start(project):
    assert [m.due_on for m in project.milestones] == [add_months(today(), 6), add_months(today(), 18)]


def test_the_team_reports_and_the_institute_accepts_each_milestone(proposal_world, project):
    w, first = proposal_world, project.milestones[0]
    assert authz.proposal_actions(w.engineer, project).milestones[first.id] == {"report"}
    with pytest.raises(DomainError, match="not reported"):
        proposals.accept_milestone(w.staff, first)
    proposals.report_milestone(w.engineer, first)
    assert told(w.staff, "reports the milestone “Alloy trials” done")
    assert authz.proposal_actions(w.staff, project).milestones[first.id] == {"accept", "send_back"}
    with pytest.raises(DomainError) as refusal:  # the team cannot accept its own work
        proposals.accept_milestone(w.engineer, first)
    assert refusal.value.status == 403
    proposals.send_back_milestone(w.staff, first, reason="Attach the test report")
    assert first.reported_at is None and told(w.engineer, "Attach the test report")
    proposals.report_milestone(w.engineer, first)
    proposals.accept_milestone(w.staff, first)
    assert first.accepted_by_id == w.staff.id and told(w.engineer, "accepted the milestone “Alloy trials”")
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"project.milestone_reported", "project.milestone_sent_back", "project.milestone_accepted"} <= actions


def accept_all(w, project):
    for milestone in project.milestones:
        proposals.report_milestone(w.engineer, milestone)
        proposals.accept_milestone(w.staff, milestone)


def test_completion_needs_every_milestone_accepted_and_the_institutes_sign_off(proposal_world, project):
    w = proposal_world
    proposals.report_milestone(w.engineer, project.milestones[0])  # reported, not accepted
    for attempt in (lambda: proposals.request_completion(w.engineer, project, trl_reached=6, mrl_reached=6),
                    lambda: proposals.complete(w.staff, project, trl_reached=6, mrl_reached=6)):
        with pytest.raises(DomainError, match="accepts every milestone first"):
            attempt()
    proposals.accept_milestone(w.staff, project.milestones[0])
    proposals.report_milestone(w.engineer, project.milestones[1])
    proposals.accept_milestone(w.staff, project.milestones[1])
    with pytest.raises(DomainError) as refusal:  # the lead cannot complete the project itself
        proposals.complete(w.engineer, project, trl_reached=6, mrl_reached=6)
    assert refusal.value.status == 403
    proposals.request_completion(w.engineer, project, trl_reached=6, mrl_reached=5)
    assert project.status == ProposalStatus.ACTIVE and (project.trl_reached, project.trl_requested) == (None, 6)
    assert told(w.staff, "asks to be signed off as complete")
    proposals.complete(w.staff, project, trl_reached=6, mrl_reached=5)
    assert project.status == ProposalStatus.COMPLETED and project.signed_off_by_id == w.staff.id
    assert told(w.lead_admin, "signed “A proposal” off as complete")


@pytest.mark.parametrize(("trl", "mrl", "field"), [(2, 5, "trl_reached"), (5, 3, "mrl_reached")])
def test_levels_reached_below_the_start_are_refused(proposal_world, project, trl, mrl, field):
    w = proposal_world
    accept_all(w, project)
    for attempt in (lambda: proposals.request_completion(w.engineer, project, trl_reached=trl, mrl_reached=mrl),
                    lambda: proposals.complete(w.staff, project, trl_reached=trl, mrl_reached=mrl)):
        with pytest.raises(DomainError) as refusal:
            attempt()
        assert refusal.value.field == field and "a project that did not advance reaches 4" in refusal.value.message
    assert project.status == ProposalStatus.ACTIVE


def test_a_project_that_did_not_advance_completes_at_its_start_level(proposal_world, project):
    accept_all(proposal_world, project)
    proposals.complete(proposal_world.staff, project, trl_reached=4, mrl_reached=4)
    assert (project.trl_reached, project.mrl_reached) == (4, 4)


def test_the_project_page_shows_due_dates_states_and_the_sign_off(client, app, proposal_world, project):
    w = proposal_world
    proposals.report_milestone(w.engineer, project.milestones[0])
    db.session.commit()
    login(client, w.staff.email)
    page = client.get(f"/proposals/{project.id}").data.decode()
    assert long_date(add_months(today(), 18)) in page  # the due date
    assert "waiting for the institute" in page and "Accept<span" in page and "Report done" not in page
    response = client.post(f"/proposals/{project.id}/milestones/{project.milestones[1].id}/accept",
                           follow_redirects=True)
    assert b"not reported that milestone done" in response.data
    assert db.session.scalar(sa.select(Milestone.accepted_at).where(Milestone.id == project.milestones[1].id)) is None
