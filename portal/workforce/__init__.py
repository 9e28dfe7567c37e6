"""Workforce and education pages: routes (the finder, signing up, the staff's pages) and staff (changing
and cancelling what was published), both on one blueprint."""

from portal.workforce import routes, staff  # each module registers its pages on bp
from portal.workforce.routes import bp

__all__ = ["bp", "routes", "staff"]
