"""Static files: content-hashed names, compressed copies and long-lived caching.

`flask digest compile` (Flask-Static-Digest; `make run` and a deployment run it) copies every static file
to a name carrying its MD5 (`css/portal-<md5>.css`) with a gzip copy beside it, and writes
`static/cache_manifest.json`; templates ask `static_url_for` for the hashed name. WhiteNoise serves the
folder in front of the app: the gzip copy to browsers that accept it, hashed names cached for a year as
immutable (a new content is a new name), other files for STATIC_MAX_AGE seconds. Without a manifest (a
fresh checkout, or STATIC_MANIFEST off as in the tests) the plain names are used, so nothing depends on
the step having run.
"""

import re
from pathlib import Path

from flask import Flask
from flask_static_digest import FlaskStaticDigest
from whitenoise import WhiteNoise

from portal.headers import STATIC_HEADERS

HASHED_NAME = re.compile(r"-[0-9a-f]{32}\.[A-Za-z0-9]+$")
# Fonts keep their names: the stylesheet refers to them by name and the pages preload those very URLs.
UNHASHED = [".ttf", ".woff", ".woff2", ".md", ".json", ""]


def is_hashed(path: str, url: str) -> bool:
    """True for a file whose name carries its content's MD5: it never changes under that name."""
    return bool(HASHED_NAME.search(url))


def add_static_headers(headers, path: str, url: str) -> None:
    """The security headers a static response needs (the app's after_request never sees it)."""
    for name, value in STATIC_HEADERS.items():
        headers[name] = value


def init_app(app: Flask) -> None:
    app.config.setdefault("FLASK_STATIC_DIGEST_BLACKLIST_FILTER", UNHASHED)
    app.config.setdefault("FLASK_STATIC_DIGEST_COMPRESSION", ["gzip"])
    digest = FlaskStaticDigest(app)
    if not app.config["STATIC_MANIFEST"]:
        digest.manifests.clear()
    assert app.static_folder and app.static_url_path
    served = WhiteNoise(
        app.wsgi_app,
        max_age=app.config["STATIC_MAX_AGE"],
        autorefresh=app.debug,
        allow_all_origins=False,
        immutable_file_test=is_hashed,
        add_headers_function=add_static_headers,
    )
    if Path(app.static_folder).is_dir():  # an app built from elsewhere (a script, a test) may have none
        served.add_files(app.static_folder, prefix=app.static_url_path)
    # Flask's documented way to put middleware around the app; its stubs declare wsgi_app a method.
    app.wsgi_app = served  # type: ignore[method-assign]
