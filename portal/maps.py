"""The US state map for the snapshot: SVG paths built from public-domain Census geometry.

`portal/data/us-atlas/states-albers-10m.json` is the us-atlas package's TopoJSON (ISC license, from the
US Census Bureau's cartographic boundary files), already projected to a 975 x 610 Albers USA frame.
`python -m portal.maps` turns it into `static/map/us-states.svg`, one path per state with the state's code
as its id. The snapshot page draws each state with `<use href=".../us-states.svg#OH">` and its own fill,
so the browser fetches (and caches) the 110 KB of outlines once rather than with every page. A test
checks that the committed file is what the build makes.
"""

import json
import re
from functools import cache
from pathlib import Path

from portal.geography import FIPS

DATA = Path(__file__).parent / "data"
SOURCE = DATA / "us-atlas" / "states-albers-10m.json"
TARGET = Path(__file__).parent.parent / "static" / "map" / "us-states.svg"
VIEWBOX = "0 0 975 610"


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    scale_x, scale_y = topology["transform"]["scale"]
    move_x, move_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # quantized and delta-encoded
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        arcs.append(points)
    return arcs


def _ring(arcs: list, indexes: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc[1:] if points else arc)
    return points


def _path(rings: list[list[tuple[float, float]]]) -> str:
    return "".join("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + "Z" for ring in rings if ring)


def build() -> dict[str, str]:
    """State code -> SVG path data."""
    topology = json.loads(SOURCE.read_text("utf-8"))
    arcs = _decode_arcs(topology)
    paths = {}
    for geometry in topology["objects"]["states"]["geometries"]:
        code = FIPS.get(geometry["id"])
        if code is None:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        paths[code] = _path([_ring(arcs, ring) for polygon in polygons for ring in polygon])
    return dict(sorted(paths.items()))


def svg(paths: dict[str, str]) -> str:
    outlines = "\n".join(f'<path id="{code}" d="{d}"/>' for code, d in paths.items())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{VIEWBOX}">\n'
            "<!-- US states and DC from the us-atlas package (ISC license), made from the US Census Bureau's\n"
            "     public-domain cartographic boundary files; built by `python -m portal.maps`. -->\n"
            f"{outlines}\n</svg>\n")


@cache
def state_codes() -> list[str]:
    """The states the map draws, read from the built file."""
    return re.findall(r'<path id="([A-Z]{2})"', TARGET.read_text("utf-8"))


if __name__ == "__main__":
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(svg(build()), encoding="utf-8")
    print(f"wrote {len(build())} state outlines to {TARGET.relative_to(TARGET.parent.parent.parent)}")
