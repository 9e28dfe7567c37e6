"""Static files: hashed names cached for a year, gzip copies, their own security headers, and a trimmed
USWDS stylesheet that still holds every class the templates use."""

import gzip
import re
import shutil
from pathlib import Path

import pytest
from flask_static_digest import digester

from portal.static_files import UNHASHED

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
HASHED = re.compile(r"/static/css/portal-([0-9a-f]{32})\.css")


@pytest.fixture
def digested_app(make_app, tmp_path):
    """An app serving a copy of static/ after `flask digest compile` ran on it, as a deployment does."""
    folder = tmp_path / "static"
    written = shutil.ignore_patterns("cache_manifest.json", "*.gz", "*-" + "?" * 32 + ".*")  # by an earlier compile
    shutil.copytree(STATIC, folder, ignore=written)
    digester.compile(f"{folder}/", f"{folder}/", UNHASHED, True, False)  # what `flask digest compile` runs
    assert (folder / "cache_manifest.json").exists()
    return make_app(STATIC_FOLDER=str(folder), STATIC_MANIFEST=True, STATIC_MAX_AGE=600)


def test_pages_name_hashed_files_and_those_are_cached_for_a_year(digested_app):
    client = digested_app.test_client()
    html = client.get("/").get_data(as_text=True)
    found = HASHED.search(html)
    assert found, "the page should link the hashed copy of portal.css"
    assert "/static/js/portal-" in html and "/static/vendor/uswds/css/uswds.min-" in html

    with client.get(found.group(0)) as response:
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=315360000" in response.headers["Cache-Control"]
        assert response.get_data() == (STATIC / "css" / "portal.css").read_bytes()


def test_browsers_that_accept_gzip_get_the_compressed_copy(digested_app):
    client = digested_app.test_client()
    url = HASHED.search(client.get("/").get_data(as_text=True)).group(0)
    with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert gzip.decompress(response.get_data()) == (STATIC / "css" / "portal.css").read_bytes()


def test_fonts_keep_their_names_for_the_preload_and_a_shorter_cache(digested_app):
    client = digested_app.test_client()
    html = client.get("/").get_data(as_text=True)
    font = "/static/vendor/uswds/fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2"
    assert f'<link rel="preload" href="{font}" as="font" type="font/woff2" crossorigin>' in html
    with client.get("/static/vendor/uswds/css/uswds.min.css") as stylesheet:  # in /static/vendor/uswds/css/
        assert "url(../fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2)" in stylesheet.get_data(as_text=True)
    with client.get(font) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "max-age=600, public"


def test_static_responses_carry_their_own_security_headers(client):
    with client.get("/static/map/us-states.svg") as response:
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "script-src" not in response.headers["Content-Security-Policy"]  # an SVG opened alone runs nothing
        assert "Access-Control-Allow-Origin" not in response.headers


def test_without_a_manifest_pages_name_the_plain_files(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/static/css/portal.css"' in html
    with client.get("/static/css/portal.css") as response:
        assert response.status_code == 200
    assert client.get("/static/nothing-here.css").status_code == 404


def _classes_in_templates() -> set[str]:
    names: set[str] = set()
    for template in (ROOT / "templates").rglob("*.html"):
        for attribute in re.findall(r'class="([^"]*)"', template.read_text()):
            without_expressions = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", attribute)
            names.update(word for word in without_expressions.split()
                         if re.fullmatch(r"[a-z][a-z0-9:_-]*[a-z0-9]", word))
    return names


def test_every_class_a_template_uses_is_in_a_stylesheet():
    """The USWDS stylesheet keeps only the rules some file names (frontend/build.mjs): a template that starts
    using a class after the last `make assets` must not silently lose its style."""
    css = (STATIC / "vendor" / "uswds" / "css" / "uswds.min.css").read_text()
    css += (STATIC / "css" / "portal.css").read_text()
    defined = {name.replace("\\:", ":") for name in re.findall(r"\.((?:[a-zA-Z0-9_-]|\\:)+)", css)}
    used = {name for name in _classes_in_templates() if name.startswith(("usa-", "margin-", "padding-", "grid-",
                                                                          "tablet:", "desktop:", "text-", "font-",
                                                                          "bg-", "border-", "display-"))}
    assert len(used) > 60  # the scan found the templates' classes
    # Classes with no rule of their own: a hook for the header's links, and a footer modifier whose USWDS rules
    # all pair it with parts our footer does not have (the build drops those).
    no_rule = {"usa-nav-link", "usa-footer--slim"}
    missing = sorted(used - defined - no_rule)
    assert not missing, f"run `make assets`: the stylesheet lacks {missing}"


def test_the_stylesheet_is_the_trimmed_build():
    css = (STATIC / "vendor" / "uswds" / "css" / "uswds.min.css").read_text()
    assert len(css.encode()) < 150_000  # the whole of USWDS is 527 KB
    assert "font-display:fallback" not in css and "font-display:optional" in css
