"""Import files for a network shaped like a published annual report: organizations split by sector and size,
one membership each in force through the fiscal year, pledges and their receipts adding up to the non-federal
total, federal obligations adding up to the federal one. Used by the annual-report test and the benchmark."""

import csv
import io
import json
from pathlib import Path

REPORT = json.loads((Path(__file__).parent / "fixtures" / "annual_report_fy2018.json").read_text())
STATES = ("OH", "MI", "PA", "NY", "CA", "TX", "MA", "NC", "TN", "IN", "IL", "GA", "WA", "CO", "VA")
OTHERS = ("academic", "government", "nonprofit")


AREAS = ("Metals", "Composites", "Digital manufacturing", "Photonics", "Biomanufacturing")


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole amounts that add up to it exactly."""
    share, rest = divmod(total, parts)
    return [share + (1 if i < rest else 0) for i in range(parts)]


def network_files(institutes: list[str], *, members: int, fiscal_year: int, industry_share: float,
                  small_share: float, federal_usd: int, non_federal_usd: int) -> dict[str, str]:
    """CSV text per kind. ``institutes`` are acronyms of institutes founded by the fiscal year."""
    industry = round(members * industry_share)
    small = round(industry * small_share)
    names = [f"Member {i:06d}" for i in range(members)]
    starts, ends = f"{fiscal_year - 1}-10-01", f"{fiscal_year}-09-30"
    organizations = []
    for i, name in enumerate(names):
        sector = "industry" if i < industry else OTHERS[i % 3]
        size = ("small" if i < small else "large") if sector == "industry" else ""
        organizations.append([name, sector, size, STATES[i % len(STATES)], f"{i:012d}"])
    memberships = [[name, institutes[i % len(institutes)], "Silver", starts, ends, f"{fiscal_year - 1}-08-01",
                    f"{fiscal_year - 1}-09-{1 + i % 28:02d}"] for i, name in enumerate(names)]
    amounts = _split(non_federal_usd, members)
    pledges = [[f"P{i:06d}", name, institutes[i % len(institutes)], fiscal_year, "cash", amounts[i],
                f"{fiscal_year - 1}-10-15"] for i, name in enumerate(names)]
    receipts = [[f"R{i:06d}", f"P{i:06d}", amounts[i], f"{fiscal_year}-06-30", f"{fiscal_year}-07-15"]
                for i in range(members)]
    # one project per member: led by it with the next member as partner, every third completed in the year
    projects = [[f"PR{i:06d}", institutes[i % len(institutes)], f"Project {i:06d}", name,
                 names[(i + 1) % members] if members > 1 else "", AREAS[i % len(AREAS)],
                 "completed" if i % 3 == 0 else "active", f"{fiscal_year - 1}-09-01", f"{fiscal_year - 1}-10-01",
                 f"{fiscal_year}-06-30" if i % 3 == 0 else "", 500_000 + i % 7 * 100_000, 600_000, 4, 6,
                 6 if i % 3 == 0 else ""] for i, name in enumerate(names)]
    federal = [[acronym, fiscal_year, amount, f"FY{fiscal_year}-{acronym}-BASE"]
               for acronym, amount in zip(institutes, _split(federal_usd, len(institutes)), strict=True)]
    return {
        "organizations": _csv(["name", "sector", "size", "state", "uei"], organizations),
        "memberships": _csv(["organization", "institute", "tier", "starts_on", "ends_on", "applied_on",
                             "decided_on"], memberships),
        "pledges": _csv(["pledge_ref", "organization", "institute", "fiscal_year", "kind", "amount", "pledged_on"],
                        pledges),
        "receipts": _csv(["receipt_ref", "pledge_ref", "amount", "received_on", "verified_on"], receipts),
        "federal": _csv(["institute", "fiscal_year", "amount", "reference"], federal),
        "projects": _csv(["project_ref", "institute", "title", "lead_organization", "partners", "technology_area",
                          "status", "awarded_on", "started_on", "completed_on", "federal_amount", "cost_share",
                          "trl_start", "trl_target", "trl_reached"], projects),
    }
