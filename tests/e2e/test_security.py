"""Accounts that move federal money, in a real browser: an institute administrator is refused staff pages
until they set up an authenticator app, verifies a receipt after a step-up, and signs out their other
sessions; axe-core and console checks on each new page."""

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from portal.models import Role
from portal.models.base import utcnow
from portal.services.clock import today
from tests import factories
from tests.e2e.test_journeys import PASSWORD, answer_second_factor, expect, heading, sign_in

pytestmark = pytest.mark.e2e

SLUG = "america-makes"
NEW_ADMIN = "rosa.quintero@americamakes.example"
RECORDER = "sam.okafor@americamakes.example"
ORG_ADMIN = "cfo@granite-forge.example"
NETWORK_ADMIN = "keeper@portal.example"


def make_world(app) -> int:
    """An institute administrator without a second factor, a colleague who recorded a $2,500 receipt for
    them to verify, and the member organization's pledge. Returns the pledge's id."""
    from portal.extensions import db
    from portal.models import Institute, Pledge, Tier, User
    from portal.services import ledger

    with app.app_context():
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        tier = db.session.scalar(sa.select(Tier).where(Tier.institute_id == institute.id, Tier.name == "Gold"))
        factories.make_staff(app, institute, email=NEW_ADMIN, full_name="Rosa Quintero", password=PASSWORD,
                             second_factor=False)
        recorder = factories.make_staff(app, institute, email=RECORDER, password=PASSWORD)
        admin, organization = factories.org_admin(app, factories.make_organization(app, name="Granite Forge"),
                                                  email=ORG_ADMIN, password=PASSWORD)
        factories.make_membership(app, organization, institute, tier)
        pledge = factories.make_pledge(app, admin, organization, institute, cents=10_000_00)
        ledger.record_receipt(db.session.get(User, recorder.id), db.session.get(Pledge, pledge.id),
                              amount_cents=2_500_00, received_on=today(), key=None)
        db.session.commit()
        return pledge.id


def second_factor_ages(app, email: str, minutes: int) -> None:
    """As if ``minutes`` had passed since this person last proved their second factor."""
    from portal.extensions import db
    from portal.models import User, UserSession

    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
        db.session.execute(sa.update(UserSession).where(UserSession.user_id == user_id)
                           .values(second_factor_at=utcnow() - timedelta(minutes=minutes)))
        db.session.commit()


def test_enrol_refused_staff_page_step_up_and_sign_out_other_sessions(new_page, live_server, audit):
    pledge_id = make_world(live_server.app)
    page = new_page(user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                               "Chrome/120.0.0.0 Safari/537.36")
    sign_in(page, NEW_ADMIN, PASSWORD)
    other = new_page(user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
    sign_in(other, NEW_ADMIN, PASSWORD)  # signed in on a second computer too

    # A staff page is refused until an authenticator app is set up.
    page.goto(f"/institutes/{SLUG}/manage")
    expect(heading(page, "Set up an authenticator app")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Administrators need a second factor")).to_be_visible()
    audit(page, "the authenticator set-up page")
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(page.get_by_role("main")).to_contain_text("That code is not right")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(heading(page, "Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    audit(page, "the recovery codes page")
    page.get_by_role("link", name="I have kept them").click()
    page.goto(f"/institutes/{SLUG}/manage")
    expect(heading(page, re.compile("America Makes"))).to_be_visible()

    # Twenty minutes later, verifying a receipt asks for the second factor again.
    second_factor_ages(live_server.app, NEW_ADMIN, 20)
    page.goto(f"/pledges/{pledge_id}")
    page.get_by_role("button", name=re.compile("^Verify")).click()
    expect(heading(page, "Confirm it is you")).to_be_visible()
    audit(page, "the step-up page")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code").fill(totp.at(utcnow() + timedelta(seconds=30)))  # this step's code was used
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").filter(has_text="Confirmed")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Verify")).click()
    expect(page.get_by_role("status").filter(has_text="The receipt has been verified")).to_be_visible()

    # From the first computer, sign the second one out.
    page.goto("/account")
    sessions = page.locator("#sessions tbody tr")
    expect(sessions).to_have_count(2)
    expect(page.locator("#sessions")).to_contain_text("Chrome on Linux")
    expect(page.locator("#sessions")).to_contain_text("Firefox on Windows")
    audit(page, "the account page with its sessions")
    page.get_by_role("button", name="Sign out of all other sessions").click()
    expect(page.get_by_role("status").filter(has_text="All your other sessions have been signed out")).to_be_visible()
    expect(sessions).to_have_count(1)
    other.goto("/account")
    expect(heading(other, "Sign in")).to_be_visible()


def test_the_second_step_the_reset_page_and_the_way_past_a_lockout(new_page, live_server, audit):
    factories.make_user(live_server.app, email=NETWORK_ADMIN, password=PASSWORD, role=Role.NETWORK_ADMIN)
    page = new_page()
    page.goto("/login")
    page.get_by_label("Email address").fill(NETWORK_ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(heading(page, "Second step of signing in")).to_be_visible()
    audit(page, "the second step of signing in")
    answer_second_factor(page)
    expect(page.get_by_role("heading", level=1, name=re.compile("^Hello, "))).to_be_visible()  # the home
    page.goto("/account")
    expect(heading(page, "Your account")).to_be_visible()
    expect(page.locator("#audit-head")).to_contain_text(re.compile("[0-9a-f]{64}"))
    page.get_by_role("link", name="Reset someone else's lost second factor").click()
    expect(heading(page, "Reset someone's second factor")).to_be_visible()
    audit(page, "the second-factor reset page")
    locked = new_page()
    locked.goto("/login/locked")
    expect(heading(locked, "Sign in with your authenticator code")).to_be_visible()
    audit(locked, "the sign-in page for a locked account")
    locked.get_by_role("textbox", name="Email address").last.fill(NETWORK_ADMIN)
    locked.get_by_role("button", name="Mail me a sign-in link").click()
    expect(locked.get_by_role("status").filter(has_text="we have sent it a sign-in link")).to_be_visible()
    [mail] = [m for m in live_server.mails_to(NETWORK_ADMIN) if m.subject == "Your sign-in link"]
    locked.goto(re.search(r"https?://\S+/login/link/\S+", mail.body).group(0))
    expect(heading(locked, "Sign in from your link")).to_be_visible()
    audit(locked, "the sign-in page of a mailed link")


def test_a_passkey_added_on_the_account_page_answers_the_second_step(new_page, live_server, audit):
    """Chromium's virtual authenticator stands in for a security key. WebAuthn wants a domain, not an
    address, so this test reaches the server as localhost."""
    from tests.e2e.test_memberships import sign_out

    email = "passkey.owner@example.com"
    factories.make_user(live_server.app, email=email, password=PASSWORD, second_factor=True)
    origin = live_server.url.replace("127.0.0.1", "localhost")
    config = live_server.app.config
    config.update(WEBAUTHN_RP_ID="localhost", WEBAUTHN_ORIGIN=origin)
    try:
        page = new_page()
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})
        page.goto(f"{origin}/login")
        sign_in(page, email, PASSWORD, home=True)
        page.goto(f"{origin}/account")  # on localhost, where the passkey belongs
        add = page.locator("form[data-passkey='create']")
        expect(add).to_be_visible()
        audit(page, "the account page, passkeys offered")
        add.get_by_label("Name of the passkey").fill("Blue security key")
        add.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_role("status").filter(has_text="The passkey Blue security key is added")).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text("Blue security key: added")
        sign_out(page)

        page.goto(f"{origin}/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(heading(page, "Second step of signing in")).to_be_visible()
        audit(page, "the second step with a passkey offered")
        page.get_by_role("button", name="Use a passkey").click()
        expect(page.get_by_role("heading", level=1, name=re.compile("^Hello, "))).to_be_visible()  # the home
        expect(page.get_by_role("status").filter(has_text=f"Signed in as {email}")).to_be_visible()
    finally:
        config.update(WEBAUTHN_RP_ID=None, WEBAUTHN_ORIGIN=None)
