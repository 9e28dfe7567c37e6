"""Project calls and proposals: rules, teams, cost share, review, decision and projects."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Notification,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Review,
    Score,
)
from portal.models.base import utcnow
from portal.services import DomainError
from portal.services.clock import add_months, today
from tests.conftest import login

CALL = {"title": "Qualifying printed titanium", "description": "Faster qualification of printed parts.",
        "opens_at": "", "closes_at": "", "max_federal": "1,000,000", "min_cost_share": "0.5",
        "trl_min": "4", "trl_max": "7", "mrl_min": "4", "mrl_max": "7", "min_industry": "1",
        "min_academic": "1", "min_small_business": "1", "criteria": "40 Technical merit\n60 Impact"}
DRAFT = {"title": "Printed titanium brackets", "abstract": "We will qualify printed brackets.",
         "technical_plan": "Secret sauce: a new heat treatment.", "technology_area": "Additive manufacturing",
         "trl_start": "4", "trl_target": "6", "mrl_start": "4", "mrl_target": "6", "duration_months": "18",
         "federal_request": "800,000", "milestones": "6 | Alloy trials | Test report\n18 | Flight part | Part"}


def eastern(delta_days: int) -> str:
    from portal.services.parsing import EASTERN
    return (utcnow() + timedelta(days=delta_days)).astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M")


def open_call(client, proposal_world, **changes):
    login(client, proposal_world.staff.email)
    response = client.post(f"/institutes/{proposal_world.institute.slug}/calls/new",
                           data={**CALL, "opens_at": eastern(-1), "closes_at": eastern(30), **changes})
    assert response.status_code == 302, response.data
    call_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/calls/{call_id}/status", data={"status": "open"})
    client.post("/logout")
    return call_id


def start_proposal(client, proposal_world, call_id):
    login(client, proposal_world.engineer.email)
    response = client.post(f"/calls/{call_id}/proposals",
                           data={"organization": proposal_world.lead.id, "title": "Brackets"})
    assert response.status_code == 302
    proposal_id = int(response.headers["Location"].split("/proposals/")[1].split("#")[0])
    assert client.post(f"/proposals/{proposal_id}/edit", data=DRAFT).status_code == 302
    return proposal_id


def partner_id(app, proposal_id, organization):
    with app.app_context():
        return db.session.scalar(sa.select(Partner.id).where(Partner.proposal_id == proposal_id,
                                                              Partner.organization_id == organization.id))


def build_team(client, app, proposal_world, proposal_id, *, cost_share="400,000"):
    """Invite the small business and the university; each accepts; the lead and one partner pledge."""
    for organization in (proposal_world.small, proposal_world.uni):
        response = client.post(f"/proposals/{proposal_id}/partners", data={"organization": organization.id})
        assert response.status_code == 302
    client.post("/logout")
    for admin, organization in ((proposal_world.small_admin, proposal_world.small),
                                (proposal_world.uni_admin, proposal_world.uni)):
        login(client, admin.email)
        pid = partner_id(app, proposal_id, organization)
        response = client.post(f"/proposals/{proposal_id}/partners/{pid}/answer", data={"decision": "accept"})
        assert response.status_code == 302
        client.post("/logout")
    login(client, proposal_world.lead_admin.email)
    pid = partner_id(app, proposal_id, proposal_world.lead)
    response = client.post(f"/proposals/{proposal_id}/partners/{pid}/cost-share",
                           data={"amount": cost_share, "kind": "cash", "key": f"cs-{proposal_id}"})
    assert response.status_code == 302
    client.post("/logout")


def submitted_proposal(client, app, proposal_world, *, reviewer=None) -> tuple[int, int]:
    """An open call and a proposal with a full team, submitted (and assigned to ``reviewer``); signed out."""
    call_id = open_call(client, proposal_world)
    proposal_id = start_proposal(client, proposal_world, call_id)
    build_team(client, app, proposal_world, proposal_id)
    login(client, proposal_world.engineer.email)
    assert client.post(f"/proposals/{proposal_id}/submit").status_code == 302
    client.post("/logout")
    if reviewer is not None:
        login(client, proposal_world.staff.email)
        client.post(f"/proposals/{proposal_id}/reviewers", data={"email": reviewer.email})
        client.post("/logout")
    return call_id, proposal_id


def rules(app, proposal_id):
    from portal.services import proposals
    with app.app_context():
        return {rule.name: rule for rule in proposals.check_rules(db.session.get(Proposal, proposal_id))}


def status(app, proposal_id):
    with app.app_context():
        return db.session.get(Proposal, proposal_id).status


def test_the_whole_way_from_call_to_completed_project(client, app, proposal_world):
    call_id = open_call(client, proposal_world)
    proposal_id = start_proposal(client, proposal_world, call_id)
    checklist = rules(app, proposal_id)
    assert not checklist["Team composition"].met
    assert "add 1 academic partner" in checklist["Team composition"].reason
    assert "add 1 small business" in checklist["Team composition"].reason
    assert not checklist["Cost share"].met
    page = client.get(f"/proposals/{proposal_id}").data
    assert b"Not met: Team composition." in page
    # submitting now is refused with the list of unmet rules
    response = client.post(f"/proposals/{proposal_id}/submit", follow_redirects=True)
    assert b"cannot be submitted yet" in response.data and b"Cost share" in response.data
    assert status(app, proposal_id) == ProposalStatus.DRAFT
    # the finder finds member organizations by words in their name
    found = client.get(f"/proposals/{proposal_id}", query_string={"find": 1, "q": "tiny"}).data
    assert b"Tiny Parts" in found and b"State Tech (" not in found

    build_team(client, app, proposal_world, proposal_id)
    assert all(rule.met for rule in rules(app, proposal_id).values()), rules(app, proposal_id)
    with app.app_context():
        pledge = db.session.scalar(sa.select(Pledge).where(Pledge.proposal_id == proposal_id))
        assert pledge.pledged_cents == 400_000_00 and pledge.organization_id == proposal_world.lead.id

    login(client, proposal_world.engineer.email)
    assert client.post(f"/proposals/{proposal_id}/submit").status_code == 302
    assert status(app, proposal_id) == ProposalStatus.SUBMITTED
    # read-only once submitted
    assert client.post(f"/proposals/{proposal_id}/edit", data=DRAFT).status_code == 303
    client.post("/logout")

    login(client, proposal_world.staff.email)
    # someone from a team organization cannot review it
    response = client.post(f"/proposals/{proposal_id}/reviewers", data={"email": proposal_world.small_admin.email})
    assert response.status_code == 409 and b"Conflict of interest" in response.data
    for reviewer in (proposal_world.reviewer_one, proposal_world.reviewer_two):
        assert client.post(f"/proposals/{proposal_id}/reviewers", data={"email": reviewer.email}).status_code == 302
    assert status(app, proposal_id) == ProposalStatus.UNDER_REVIEW
    client.post("/logout")

    with app.app_context():
        criteria = [c.id for c in db.session.get(ProjectCall, call_id).criteria]
    login(client, proposal_world.reviewer_one.email)
    page = client.get(f"/proposals/{proposal_id}").data
    assert b"Secret sauce" in page  # reviewers read the plan
    assert client.get(f"/proposals/{proposal_id}/review").status_code == 200
    response = client.post(f"/proposals/{proposal_id}/review",
                           data={f"score_{criteria[0]}": "4", f"score_{criteria[1]}": "5", "action": "save"},
                           follow_redirects=True)
    assert b"4.60" in response.data  # 0.4 * 4 + 0.6 * 5, shown while scoring
    client.post(f"/proposals/{proposal_id}/review",
                data={f"score_{criteria[0]}": "4", f"score_{criteria[1]}": "5", f"comment_{criteria[0]}": "Solid plan",
                      "action": "submit"})
    client.post("/logout")
    login(client, proposal_world.reviewer_two.email)
    assert b"Rev One" not in client.get(f"/proposals/{proposal_id}/review").data  # not before submitting
    client.post(f"/proposals/{proposal_id}/review",
                data={f"score_{criteria[0]}": "3", f"score_{criteria[1]}": "4", "action": "submit"})
    assert b"Rev One" in client.get(f"/proposals/{proposal_id}/review").data
    client.post("/logout")

    login(client, proposal_world.staff.email)
    page = client.get(f"/proposals/{proposal_id}").data
    assert b"weighted mean 4.10 out of 5" in page and b"Solid plan" in page  # admins see each review
    assert client.post(f"/proposals/{proposal_id}/decision",
                       data={"decision": "approve", "note": "Strong team."}).status_code == 302
    assert status(app, proposal_id) == ProposalStatus.APPROVED
    client.post("/logout")

    # the public sees what is public, and nothing else
    public = client.get(f"/proposals/{proposal_id}").data
    assert b"We will qualify printed brackets." in public and b"Tiny Parts" in public
    assert b"Secret sauce" not in public and b"4.60" not in public and b"Rev One" not in public

    login(client, proposal_world.engineer.email)
    client.post(f"/proposals/{proposal_id}/start")
    assert status(app, proposal_id) == ProposalStatus.ACTIVE
    client.post(f"/proposals/{proposal_id}/updates", data={"body": "Trials started."})
    response = client.post(f"/proposals/{proposal_id}/completion", data={"trl_reached": "6", "mrl_reached": "5"},
                           follow_redirects=True)
    assert b"The institute accepts every milestone first" in response.data
    assert client.post(f"/proposals/{proposal_id}/complete",
                       data={"trl_reached": "6", "mrl_reached": "5"}).status_code == 403  # the institute signs off
    with app.app_context():
        milestones = [m.id for m in db.session.get(Proposal, proposal_id).milestones]
        due = [m.due_on for m in db.session.get(Proposal, proposal_id).milestones]
    assert due == [add_months(today(), 6), add_months(today(), 18)]  # due dates from the day it started
    for milestone_id in milestones:
        client.post(f"/proposals/{proposal_id}/milestones/{milestone_id}/report")
    assert b"waiting for the institute" in client.get(f"/proposals/{proposal_id}").data
    client.post("/logout")
    login(client, proposal_world.staff.email)
    for milestone_id in milestones:
        client.post(f"/proposals/{proposal_id}/milestones/{milestone_id}/accept")
    client.post("/logout")
    login(client, proposal_world.engineer.email)
    assert client.post(f"/proposals/{proposal_id}/completion",
                       data={"trl_reached": "6", "mrl_reached": "5"}).status_code == 302
    assert status(app, proposal_id) == ProposalStatus.ACTIVE  # asked for, not yet signed off
    client.post("/logout")
    login(client, proposal_world.staff.email)
    page = client.get(f"/proposals/{proposal_id}").data
    assert b"waiting for the institute's sign-off" in page and b'value="6"' in page
    assert client.post(f"/proposals/{proposal_id}/complete",
                       data={"trl_reached": "6", "mrl_reached": "5"}).status_code == 302
    with app.app_context():
        project = db.session.get(Proposal, proposal_id)
        assert (project.status, project.trl_start, project.trl_reached) == (ProposalStatus.COMPLETED, 4, 6)
        actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_type == "proposals")))
        assert {"proposal.submitted", "proposal.reviewer_assigned", "proposal.approved", "project.milestone_reported",
                "project.milestone_accepted", "project.completion_requested", "proposal.completed"} <= actions
        assert project.signed_off_by_id == proposal_world.staff.id
        told = db.session.scalars(sa.select(Notification.message)
                                  .where(Notification.user_id == proposal_world.lead_admin.id)).all()
        assert any("was approved" in m for m in told)
    client.post("/logout")
    public = client.get(f"/proposals/{proposal_id}").data
    assert b"6 reached" in public


def test_a_call_with_proposals_can_no_longer_change_its_rules(client, app, proposal_world):
    call_id = open_call(client, proposal_world)
    start_proposal(client, proposal_world, call_id)
    client.post("/logout")
    login(client, proposal_world.staff.email)
    response = client.post(f"/calls/{call_id}/edit", data={**CALL, "opens_at": eastern(-1), "closes_at": eastern(30),
                                                          "max_federal": "5,000,000"}, follow_redirects=True)
    assert b"its rules can no longer change" in response.data
    with app.app_context():
        assert db.session.get(ProjectCall, call_id).max_federal_cents == 1_000_000_00


def test_bad_call_input_is_shown_next_to_the_field(client, app, proposal_world):
    login(client, proposal_world.staff.email)
    url = f"/institutes/{proposal_world.institute.slug}/calls/new"
    base = {**CALL, "opens_at": eastern(-1), "closes_at": eastern(30)}
    for changes, field in (({"criteria": "40 Merit\n50 Impact"}, "criteria"),
                           ({"closes_at": eastern(-2)}, "closes_at"),
                           ({"trl_min": "8", "trl_max": "5"}, "trl_max"),
                           ({"min_cost_share": "half"}, "min_cost_share")):
        response = client.post(url, data={**base, **changes})
        assert response.status_code == 422, field
        assert f'id="{field}-error"'.encode() in response.data, field
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ProjectCall.id))) == 0


def test_only_members_whose_tier_may_lead_start_proposals(client, app, proposal_world):
    call_id = open_call(client, proposal_world)
    login(client, proposal_world.small_admin.email)  # Silver may not lead
    response = client.post(f"/calls/{call_id}/proposals",
                           data={"organization": proposal_world.small.id, "title": "Mine"})
    assert response.status_code == 422
    assert b"To lead a proposal, your organization needs an active membership" in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_submitting_after_the_deadline_is_refused(client, app, proposal_world):
    from portal.services import proposals
    call_id = open_call(client, proposal_world)
    proposal_id = start_proposal(client, proposal_world, call_id)
    build_team(client, app, proposal_world, proposal_id)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        with pytest.raises(DomainError, match="Deadline"):
            proposals.submit(db.session.merge(proposal_world.engineer), proposal, now=utcnow() + timedelta(days=31))
    assert status(app, proposal_id) == ProposalStatus.DRAFT


def test_cost_share_must_reach_the_ratio(client, app, proposal_world):
    call_id = open_call(client, proposal_world)
    proposal_id = start_proposal(client, proposal_world, call_id)
    build_team(client, app, proposal_world, proposal_id, cost_share="399,999.99")  # 0.5 x $800,000 = $400,000
    rule = rules(app, proposal_id)["Cost share"]
    assert not rule.met and "at least $400,000 needed" in rule.reason


def test_outsiders_and_other_teams_cannot_see_or_touch_a_draft(client, app, proposal_world):
    call_id = open_call(client, proposal_world)
    proposal_id = start_proposal(client, proposal_world, call_id)
    client.post("/logout")
    assert client.get(f"/proposals/{proposal_id}").status_code == 404
    login(client, proposal_world.outsider.email)
    assert client.get(f"/proposals/{proposal_id}").status_code == 404
    assert client.post(f"/proposals/{proposal_id}/edit", data=DRAFT).status_code == 404
    assert client.post(f"/proposals/{proposal_id}/submit").status_code == 404
    client.post("/logout")
    # an invited partner sees it, but only the lead's people edit or submit
    login(client, proposal_world.engineer.email)
    client.post(f"/proposals/{proposal_id}/partners", data={"organization": proposal_world.small.id})
    client.post("/logout")
    login(client, proposal_world.small_admin.email)
    assert client.get(f"/proposals/{proposal_id}").status_code == 200
    assert client.post(f"/proposals/{proposal_id}/submit").status_code == 403
    assert client.post(f"/proposals/{proposal_id}/edit", data=DRAFT).status_code == 403


def test_reviewers_cannot_see_each_others_scores_by_changing_the_address(client, app, proposal_world):
    _, proposal_id = submitted_proposal(client, app, proposal_world, reviewer=proposal_world.reviewer_one)
    login(client, proposal_world.reviewer_two.email)  # not assigned
    assert client.get(f"/proposals/{proposal_id}/review").status_code == 404
    assert client.get(f"/proposals/{proposal_id}").status_code == 404
    client.post("/logout")
    login(client, proposal_world.engineer.email)  # the team sees no scores
    assert client.get(f"/proposals/{proposal_id}/review").status_code == 403
    assert b"Review and decision" not in client.get(f"/proposals/{proposal_id}").data


def test_scores_outside_one_to_five_or_twice_are_refused(client, app, proposal_world):
    from portal.services import proposals
    call_id, proposal_id = submitted_proposal(client, app, proposal_world, reviewer=proposal_world.reviewer_one)
    with app.app_context():
        criteria = [c.id for c in db.session.get(ProjectCall, call_id).criteria]
    login(client, proposal_world.reviewer_one.email)
    response = client.post(f"/proposals/{proposal_id}/review", data={f"score_{criteria[0]}": "7", "action": "save"})
    assert response.status_code == 422 and b"from 1 to 5" in response.data
    response = client.post(f"/proposals/{proposal_id}/review", data={f"score_{criteria[0]}": "3", "action": "submit"},
                           follow_redirects=True)
    assert b"Score every criterion before submitting" in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0
        review = db.session.scalar(sa.select(Review))
        db.session.add(Score(review_id=review.id, criterion_id=criteria[0], score=3))
        db.session.add(Score(review_id=review.id, criterion_id=criteria[0], score=4))
        with pytest.raises(sa.exc.IntegrityError):  # a criterion scored twice
            db.session.flush()
        db.session.rollback()
        with pytest.raises(DomainError, match="someone else's review"):
            proposals.save_review(db.session.merge(proposal_world.reviewer_two), db.session.get(Review, review.id),
                                  {criteria[0]: (3, "")}, final=False)


def test_return_to_draft_with_a_note_and_withdrawal(client, app, proposal_world):
    _, proposal_id = submitted_proposal(client, app, proposal_world)
    login(client, proposal_world.staff.email)
    response = client.post(f"/proposals/{proposal_id}/return", data={"note": ""})
    assert response.status_code == 422
    assert b'id="note-error"' in response.data and b"Tell the team what to change" in response.data
    client.post(f"/proposals/{proposal_id}/return", data={"note": "Add a test plan."})
    assert status(app, proposal_id) == ProposalStatus.DRAFT
    client.post("/logout")
    login(client, proposal_world.engineer.email)
    assert b"Returned by the institute: Add a test plan." in client.get(f"/proposals/{proposal_id}").data
    client.post(f"/proposals/{proposal_id}/withdraw")
    assert status(app, proposal_id) == ProposalStatus.WITHDRAWN
    with app.app_context():
        from portal.services import proposals
        states = [s for s, _ in proposals.time_in_states(db.session.get(Proposal, proposal_id))]
        assert states == ["draft", "submitted", "draft", "withdrawn"]


def test_weighted_totals_and_the_disagreement_rule():
    from types import SimpleNamespace

    from portal.services.proposals import disagree, weighted_total
    criteria = [SimpleNamespace(id=1, weight=40), SimpleNamespace(id=2, weight=60)]
    assert weighted_total({1: 4, 2: 5}, criteria) == 4.6
    assert weighted_total({1: 4}, criteria) is None  # not every criterion scored yet
    assert disagree([4.6, 3.1]) and not disagree([4.6, 3.2]) and not disagree([2.0])


def test_only_an_active_account_is_assigned_as_reviewer_by_the_service(client, app, proposal_world):
    from portal.services import proposals
    _, proposal_id = submitted_proposal(client, app, proposal_world)
    with app.app_context():
        staff, proposal = db.session.merge(proposal_world.staff), db.session.get(Proposal, proposal_id)
        reviewer = db.session.merge(proposal_world.reviewer_one)
        reviewer.active = False
        for who in (reviewer, None):  # a closed account, and no account with the address typed
            with pytest.raises(DomainError) as refused:
                proposals.assign_reviewer(staff, proposal, who)
            assert (refused.value.field, refused.value.message) == ("email", "No active account has that email address")
        assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 0
        assert proposal.status == ProposalStatus.SUBMITTED
        reviewer.active = True
        proposals.assign_reviewer(staff, proposal, reviewer)
        assert proposal.status == ProposalStatus.UNDER_REVIEW
