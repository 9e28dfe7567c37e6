"""The columns of each kind of import file: its template and its entry in the data dictionary.

A file's first row names its columns (in any order); a column marked required must be there and filled on
every row. Dates are written YYYY-MM-DD (an Excel date cell is read as its day); amounts in dollars as
``parse_cents`` reads them (1,250,000 or 1250000.00); institutes by acronym (America Makes, MxD, ...).
"""

from dataclasses import dataclass

from portal.models import ImportKind


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    example: str


def _c(name: str, required: bool, meaning: str, example: str) -> Column:
    return Column(name, required, meaning, example)


COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.ORGANIZATIONS: (
        _c("name", True, "The organization's name; one row per organization (case and spacing ignored). An "
                         "organization already in the portal under this name is left as it is.", "Acme Additive Inc"),
        _c("sector", True, "industry, academic, government or nonprofit.", "industry"),
        _c("size", False, "For industry only: small (under 500 employees) or large.", "small"),
        _c("state", True, "Two-letter US state or territory code of its main site.", "OH"),
        _c("city", False, "City of its main site.", "Youngstown"),
        _c("website", False, "Web address.", "https://acme.example"),
        _c("uei", False, "SAM.gov Unique Entity ID: 12 letters and digits, when known.", "ABCDEF123456"),
        _c("ein", False, "IRS Employer Identification Number, NN-NNNNNNN, when known.", "12-3456789"),
    ),
    ImportKind.MEMBERSHIPS: (
        _c("organization", True, "Name of an organization already in the portal (import organizations first).",
           "Acme Additive Inc"),
        _c("institute", True, "The institute's acronym.", "America Makes"),
        _c("tier", True, "One of the institute's membership tiers, by name.", "Gold"),
        _c("starts_on", True, "First day of the term (not before the institute's founding year).", "2017-10-01"),
        _c("ends_on", True, "Last day of the term, after its start. A term that ended is recorded as lapsed; "
                            "one that runs past today is in force.", "2018-09-30"),
        _c("applied_on", False, "Day the application was made; the decision date if left empty.", "2017-08-15"),
        _c("decided_on", False, "Day the institute approved it; the start date if left empty. The time from "
                                "application to decision counts in the published decision times.", "2017-09-20"),
        _c("contact_name", False, "The membership's contact person.", "Pat Doe"),
        _c("contact_email", False, "The contact's email address.", "pat@acme.example"),
    ),
    ImportKind.PLEDGES: (
        _c("pledge_ref", True, "The program office's own key for the pledge, unique across its files; receipts "
                               "name it. A pledge already imported under this key is left as it is.", "AM-2018-0001"),
        _c("organization", True, "Name of an organization in the portal with a membership of the institute.",
           "Acme Additive Inc"),
        _c("institute", True, "The institute's acronym.", "America Makes"),
        _c("fiscal_year", True, "Federal fiscal year the pledge is for (from the institute's founding year).",
           "2018"),
        _c("kind", True, "cash or in_kind.", "cash"),
        _c("amount", True, "Amount pledged, in dollars.", "250,000"),
        _c("in_kind_description", False, "For in-kind pledges: what is given and how it was valued.", ""),
        _c("pledged_on", True, "Day the pledge was made (not in the future).", "2017-11-02"),
        _c("note", False, "A note kept with the pledge.", ""),
    ),
    ImportKind.RECEIPTS: (
        _c("receipt_ref", True, "The program office's own key for the receipt, unique across its files.",
           "AM-2018-0001-R1"),
        _c("pledge_ref", True, "The pledge_ref of a pledge already imported.", "AM-2018-0001"),
        _c("amount", True, "Amount received, in dollars; a pledge's receipts never exceed what remains on it.",
           "125,000"),
        _c("received_on", True, "Day the money (or in-kind value) was received; not in the future.", "2018-03-01"),
        _c("verified_on", False, "Day a second person verified it, if verified; not before it was received. The "
                                 "network administrator who approves the batch is recorded as the verifier.",
           "2018-03-15"),
        _c("note", False, "A note kept with the receipt.", ""),
    ),
    ImportKind.FEDERAL: (
        _c("institute", True, "The institute's acronym.", "America Makes"),
        _c("fiscal_year", True, "Federal fiscal year of the obligation (from the institute's founding year).",
           "2018"),
        _c("amount", True, "Amount obligated, in dollars (positive; corrections are made on the ledger's page).",
           "15,000,000"),
        _c("reference", True, "Award or modification number; one obligation per institute and reference.",
           "FA8650-12-2-7230 P00012"),
        _c("note", False, "A note kept with the obligation.", ""),
    ),
    ImportKind.WORKFORCE: (
        _c("institute", True, "The institute's acronym.", "America Makes"),
        _c("fiscal_year", True, "Federal fiscal year the people were counted in.", "2018"),
        _c("title", True, "What was counted: an event, a program or a year's total; one row per institute, "
                          "year and title.", "FY2018 workforce programs"),
        _c("held_on", False, "Day it was held, within the fiscal year; the year's last day if left empty.",
           "2018-09-30"),
        *(_c(name, False, f"People counted: {meaning} (a whole number; empty is 0). At least one count is "
                          "above 0.", example)
          for name, meaning, example in (
              ("k12", "K-12 students", "1200"), ("postsecondary", "college and university students", "800"),
              ("incumbent", "incumbent workers", "450"), ("educator", "educators and trainers", "60"),
              ("veteran", "veterans and transitioning service members", "35"))),
    ),
    ImportKind.PROJECTS: (
        _c("project_ref", True, "The program office's own key for the project, unique per institute. A project "
                                "already imported under this key for the institute is left as it is.", "AM-P-0042"),
        _c("institute", True, "The institute's acronym.", "America Makes"),
        _c("title", True, "The project's title.", "Qualified powder reuse for Ti-6Al-4V"),
        _c("lead_organization", True, "Name of the lead organization, already in the portal.", "Acme Additive Inc"),
        _c("partners", False, "Names of the other organizations on the team, already in the portal, separated by "
                              "semicolons.", "Buckeye University; Ohio Tool Co"),
        _c("technology_area", False, "The project's technology area, as the team described it.", "Metals"),
        _c("status", True, "approved (awarded, not started), active or completed.", "completed"),
        _c("awarded_on", True, "Day the institute awarded it (not before the institute's founding year, not in "
                               "the future).", "2017-06-15"),
        _c("started_on", False, "Day work started; required for active and completed projects, not before the "
                                "award. The snapshot counts a project from this day.", "2017-10-02"),
        _c("completed_on", False, "Day the institute signed it off complete; required for completed projects "
                                  "only, after the start. The snapshot counts a project up to this day.",
           "2019-03-29"),
        _c("federal_amount", False, "Federal funds awarded, in dollars.", "1,000,000"),
        _c("cost_share", False, "Cost share the team committed, in dollars. Kept as a figure of the project; no "
                                "pledge or ledger entry is made.", "1,200,000"),
        _c("trl_start", False, "Technology readiness level at the start, 1 to 9.", "4"),
        _c("trl_target", False, "Level the project aimed for, 1 to 9, not below the start.", "6"),
        _c("trl_reached", False, "For completed projects: the level reached, 1 to 9, not below the start.", "6"),
    ),
}

LABELS = {
    ImportKind.ORGANIZATIONS: "Organizations",
    ImportKind.MEMBERSHIPS: "Memberships",
    ImportKind.PLEDGES: "Pledges",
    ImportKind.RECEIPTS: "Receipts and verifications",
    ImportKind.FEDERAL: "Federal obligations",
    ImportKind.WORKFORCE: "Workforce counts",
    ImportKind.PROJECTS: "Projects",
}


def names(kind: ImportKind) -> tuple[str, ...]:
    return tuple(column.name for column in COLUMNS[kind])


def required(kind: ImportKind) -> tuple[str, ...]:
    return tuple(column.name for column in COLUMNS[kind] if column.required)


def kind_of_header(header: set[str]) -> ImportKind | None:
    """The kind whose required columns a header has (to tell someone they chose the wrong kind)."""
    for kind in COLUMNS:
        if set(required(kind)) <= header:
            return kind
    return None
