"""`flask demo --scale`: the synthetic network's workforce rows obey the rules the services keep."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Credential, ProgramSession, Signup
from portal.services import snapshot, summary


def test_the_synthetic_workforce_obeys_the_rules_and_its_figures_verify(runner, app):
    result = runner.invoke(args=["demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    assert "workforce signups" in result.output
    with app.app_context():
        assert summary.problems() == []
        signups = db.session.scalar(sa.select(sa.func.count(Signup.id)))
        assert 1_000 <= signups < 1_100
        confirmed = dict(db.session.execute(sa.select(Signup.session_id, sa.func.count()).where(
            Signup.status == "confirmed").group_by(Signup.session_id)).all())
        taken = dict(db.session.execute(sa.select(ProgramSession.id, ProgramSession.seats_taken)).all())
        assert confirmed == {k: v for k, v in taken.items() if v}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Credential).join(Signup).where(
            Signup.completed_at.is_(None))) == 0
        assert db.session.execute(sa.select(Signup.session_id, Signup.user_id).where(Signup.status != "cancelled")
                                  .group_by(Signup.session_id, Signup.user_id).having(sa.func.count() > 1)).all() == []
        rows = snapshot.compute()["tables"]["workforce_by_fiscal_year"]["rows"]
        assert rows and any(isinstance(value, int) and value >= 10 for row in rows for value in row[1:])
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
