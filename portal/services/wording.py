"""Plain US English built from names: possessives that read right whatever the name ends in."""


def possessive(name: str) -> str:
    """"Great Lakes Aerostructures'" but "Acme's": a name that ends in s takes an apostrophe alone (GPO Style
    Manual 8.7), so an institute named America Makes is never "America Makes's"."""
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"
