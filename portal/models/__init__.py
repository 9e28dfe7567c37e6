"""All models, imported so that metadata and Alembic see every table."""

from portal.models.audit import AuditEvent
from portal.models.institute import Agency, Institute
from portal.models.ledger import (
    EntryKind,
    FederalObligation,
    Instalment,
    LedgerEntry,
    Pledge,
    PledgeKind,
    PledgeStatus,
)
from portal.models.membership import LIVE_STATUSES, InstituteStaff, Membership, MembershipStatus, Tier
from portal.models.notification import Notification
from portal.models.organization import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Organization,
    OrgSize,
    Sector,
    name_key,
)
from portal.models.outbox import OutboxMessage, PasswordResetRequest
from portal.models.proposal import (
    PUBLIC_STATUSES,
    CallStatus,
    Criterion,
    Milestone,
    Partner,
    PartnerStatus,
    ProjectCall,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    Review,
    Score,
    StatusChange,
)
from portal.models.security import RecoveryCode, UserSession
from portal.models.summary import NETWORK, Figure, Summary
from portal.models.user import Role, User

__all__ = [
    "LIVE_STATUSES",
    "NETWORK",
    "PUBLIC_STATUSES",
    "Affiliation",
    "AffiliationRole",
    "AffiliationStatus",
    "Agency",
    "AuditEvent",
    "CallStatus",
    "Criterion",
    "EntryKind",
    "FederalObligation",
    "Figure",
    "Instalment",
    "Institute",
    "InstituteStaff",
    "LedgerEntry",
    "Membership",
    "MembershipStatus",
    "Milestone",
    "Notification",
    "OrgSize",
    "Organization",
    "OutboxMessage",
    "Partner",
    "PartnerStatus",
    "PasswordResetRequest",
    "Pledge",
    "PledgeKind",
    "PledgeStatus",
    "ProjectCall",
    "ProjectUpdate",
    "Proposal",
    "ProposalStatus",
    "RecoveryCode",
    "Review",
    "Role",
    "Score",
    "Sector",
    "StatusChange",
    "Summary",
    "Tier",
    "User",
    "UserSession",
    "name_key",
]
