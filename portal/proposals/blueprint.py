"""The proposals blueprint and the loaders its pages share."""

import sqlalchemy as sa
from flask import Blueprint, abort, url_for
from flask_login import current_user

from portal import authz
from portal.extensions import db
from portal.models import Institute, Partner, ProjectCall, Proposal

bp = Blueprint("proposals", __name__)


def get_institute(slug: str) -> Institute:
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def get_call(call_id: int, action: str = "call.view") -> ProjectCall:
    """Load a call; 404 for anyone who may not see it (a draft), 403 for a forbidden action."""
    call = db.get_or_404(ProjectCall, call_id)
    if not authz.can(current_user, "call.view", call):
        abort(404)
    authz.require(current_user, action, call)
    return call


def get_proposal(proposal_id: int, action: str) -> Proposal:
    """Load a proposal; 404 for anyone who may not even see it, 403 for a forbidden action."""
    proposal = db.get_or_404(Proposal, proposal_id)
    if not authz.can(current_user, "proposal.view", proposal):
        abort(404)
    authz.require(current_user, action, proposal)
    return proposal


def get_partner(proposal: Proposal, partner_id: int) -> Partner:
    partner = db.first_or_404(sa.select(Partner).where(Partner.id == partner_id, Partner.proposal_id == proposal.id))
    authz.require(current_user, "partner.answer", partner)
    return partner


def page_of(proposal: Proposal, anchor: str = "") -> str:
    """The proposal's page, where every change on it lands."""
    return url_for("proposals.detail", proposal_id=proposal.id) + anchor
