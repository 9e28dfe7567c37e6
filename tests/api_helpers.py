"""Helpers for the API's tests: tokens made through the service, and requests that carry them."""

from datetime import timedelta

from sqlalchemy import event

from portal.extensions import db
from portal.models import ApiToken, User
from portal.models.base import utcnow
from portal.services import api_tokens


def make_token(app, user: User, scope: str = "write", *, days: int = 30) -> str:
    """A token of ``user`` (made as if just after a second factor), its secret returned."""
    with app.app_context():
        _, secret = api_tokens.create(db.session.get(User, user.id), name=f"script {scope}", scope=scope, days=days,
                                      second_factor_at=utcnow())
        db.session.commit()
    return secret


def age_token(app, secret: str, **age) -> None:
    """Make the token look as if it were made ``age`` ago (and expiring that much sooner)."""
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_of(secret)))
        token.created_at -= timedelta(**age)
        token.expires_at -= timedelta(**age)
        if token.last_used_at is not None:
            token.last_used_at -= timedelta(**age)
        db.session.commit()


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def count_queries(app, client, path: str, headers: dict[str, str] | None = None) -> int:
    """How many SQL statements a GET of ``path`` runs (it must answer 200)."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, response.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)
