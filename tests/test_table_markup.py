"""Every data table fits a 320 px screen: it scrolls inside a USWDS scrollable container (focusable, so a
keyboard can scroll it) or stacks its cells. The browser test checks the pages it can reach; this checks
every template, so a table on a page without demo data cannot slip through."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SCROLLABLE = '<div class="usa-table-container--scrollable" tabindex="0">'


def test_every_table_scrolls_in_its_container_or_stacks():
    loose = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b[^>]*>", text):
            if "usa-table--stacked" in match.group(0):
                continue
            before = text[:match.start()].rstrip()
            if not before.endswith(SCROLLABLE):
                line = text.count("\n", 0, match.start()) + 1
                loose.append(f"{path.relative_to(TEMPLATES)}:{line}")
    assert not loose, "tables outside a scrollable container: " + ", ".join(loose)
