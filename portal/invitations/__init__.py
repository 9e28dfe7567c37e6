"""Invitations by email: sending and withdrawing them where each role is managed, and answering one."""

from portal.invitations.routes import bp

__all__ = ["bp"]
