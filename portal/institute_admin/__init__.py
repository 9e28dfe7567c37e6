"""An institute administrator's pages: applications and roster, tiers, staff, the audit log, the
institute's ledger and its CSV, and the management of project calls. URLs sit under /institutes/<slug>/
(and /calls/<id>/ for a call's rules)."""

from portal.institute_admin import calls, ledger, manage  # each module registers its routes on bp
from portal.institute_admin.blueprint import bp

__all__ = ["bp", "calls", "ledger", "manage"]
