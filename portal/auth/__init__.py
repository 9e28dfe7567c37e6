"""Accounts: registration, sign-in and out, passwords, sessions and the second factor.

Each module registers its pages on the one ``bp``: routes (accounts, passwords, sessions) and
second_factor (the authenticator app, step-up and its reset), passkeys (passkeys beside the app), tokens
(personal access tokens for the JSON API)."""

from portal.auth import passkeys, routes, second_factor, tokens  # each module registers its routes on bp
from portal.auth.routes import bp

__all__ = ["bp", "passkeys", "routes", "second_factor", "tokens"]
