import pytest
pytestmark = pytest.mark.e2e
def test_planted(new_page, audit):
    page = new_page()
    page.goto("/")
    page.evaluate("() => { const i = document.createElement('img'); i.src='/static/vendor/uswds/img/usa-icons/info.svg'; document.querySelector('main').append(i); const b=document.createElement('button'); document.querySelector('main').append(b); }")
    audit(page, "the planted home page")
