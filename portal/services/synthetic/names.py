"""Names and places for the synthetic network: varied enough that searching it means something."""

import random

PLACES = [
    ("Youngstown", "OH"), ("Dayton", "OH"), ("Detroit", "MI"), ("Ann Arbor", "MI"), ("Pittsburgh", "PA"),
    ("Knoxville", "TN"), ("Chicago", "IL"), ("Boston", "MA"), ("Raleigh", "NC"), ("Austin", "TX"),
    ("Houston", "TX"), ("San Diego", "CA"), ("San Jose", "CA"), ("Seattle", "WA"), ("Denver", "CO"),
    ("Phoenix", "AZ"), ("Atlanta", "GA"), ("Albany", "NY"), ("Rochester", "NY"), ("Newark", "DE"),
    ("Madison", "WI"), ("Minneapolis", "MN"), ("Indianapolis", "IN"), ("Wichita", "KS"), ("Huntsville", "AL"),
    ("Salt Lake City", "UT"), ("Portland", "OR"), ("Columbia", "SC"), ("Omaha", "NE"), ("Albuquerque", "NM"),
    ("Baton Rouge", "LA"), ("Hartford", "CT"), ("Providence", "RI"), ("Burlington", "VT"), ("Boise", "ID"),
    ("Tulsa", "OK"), ("Louisville", "KY"), ("Richmond", "VA"), ("Charleston", "WV"), ("Honolulu", "HI"),
]
FIRST = ["Apex", "Keystone", "Summit", "Great Lakes", "Prairie", "Blue Ridge", "Pacific", "Atlantic", "Frontier",
         "Liberty", "Ironwood", "Cascade", "Granite", "Meridian", "Northstar", "Riverbend", "Redwood", "Harbor"]
TRADE = ["Additive", "Composites", "Precision Castings", "Robotics", "Photonics", "Semiconductor", "Biologics",
         "Machining", "Tooling", "Polymers", "Aerostructures", "Electronics", "Materials", "Automation"]
KIND = {"industry": ["Works", "Manufacturing", "Industries", "Systems", "Labs", "Fabrication"],
        "academic": ["State University", "Institute of Technology", "Community College", "University"],
        "government": ["National Laboratory", "Research Center", "Arsenal"],
        "nonprofit": ["Foundation", "Consortium", "Alliance"]}
AREAS = ["Additive manufacturing", "Composites", "Robotics", "Biomanufacturing", "Semiconductors", "Cybersecurity",
         "Digital twins", "Integrated photonics", "Lightweight metals", "Power electronics"]
PURPOSES = ["qualification of flight parts", "faster inspection", "repair of legacy parts", "workforce training",
            "supply chain resilience", "lower-cost tooling", "process monitoring", "recycled feedstock"]


def place(rng: random.Random) -> tuple[str, str]:
    """A city and its state."""
    return rng.choice(PLACES)


def organization_name(rng: random.Random, sector: str, number: int) -> str:
    """A plausible, unique name: the number keeps it unique."""
    if sector == "academic":
        return f"{rng.choice(FIRST)} {rng.choice(KIND['academic'])} {number}"
    return f"{rng.choice(FIRST)} {rng.choice(TRADE)} {rng.choice(KIND[sector])} {number}"


def project_title(rng: random.Random, area: str, number: int) -> str:
    return f"{area} for {rng.choice(PURPOSES)} ({number})"
