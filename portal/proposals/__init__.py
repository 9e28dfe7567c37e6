"""Project calls, proposals, their teams, review, decision and the projects they become.

Each module registers its pages on the one ``bp``: calls (calls and the public projects), detail (a
proposal's page and its draft), teams, review (reviewers, scores, decisions) and projects."""

from portal.proposals import (  # each module registers its routes on bp
    calls,
    detail,
    open_calls,
    projects,
    review,
    teams,
)
from portal.proposals.blueprint import bp

__all__ = ["bp", "calls", "detail", "open_calls", "projects", "review", "teams"]
