"""The repository a contributor expects: the license stated alike everywhere, and the documented commands
and hooks are the ones that really exist."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with $(BIN)/ resolved to .venv/bin/."""
    makefile = read("Makefile")
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, f"the Makefile has no {target} target"
    return [line.strip().replace("$(BIN)/", ".venv/bin/") for line in match.group(1).splitlines()]


def test_the_license_is_cc0_in_the_file_the_package_and_the_readme():
    assert read("LICENSE").startswith("Creative Commons Legal Code\n\nCC0 1.0 Universal")
    project = tomllib.loads(read("pyproject.toml"))["project"]
    assert project["license"] == "CC0-1.0"
    assert project["license-files"] == ["LICENSE"]
    assert "CC0 1.0 Universal (`LICENSE`)" in read("README.md")


def test_pre_commit_runs_exactly_what_make_lint_runs():
    config = yaml.safe_load(read(".pre-commit-config.yaml"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert all(repo["repo"] == "local" for repo in config["repos"]), "hooks must not need the network"
    assert all(hook["language"] == "system" for hook in hooks)
    assert [hook["entry"] for hook in hooks] == make_recipe("lint")


def test_contributing_names_only_make_targets_that_exist():
    makefile = read("Makefile")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)", read("CONTRIBUTING.md")))
    assert {"run", "test", "lint"} <= named
    assert named <= targets, f"CONTRIBUTING.md names make targets that do not exist: {named - targets}"


def test_contributing_gives_the_migration_and_service_commands():
    text = read("CONTRIBUTING.md")
    assert ".venv/bin/flask --app wsgi db migrate -m" in text
    assert "DATABASE_URL=postgresql+psycopg://" in text and "REDIS_URL=redis://" in text
    assert "REQUIRE_SERVICES=1" in text


def test_changelog_follows_keep_a_changelog():
    text = read("CHANGELOG.md")
    assert "[Keep a Changelog](https://keepachangelog.com/" in text
    sections = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert sections[0] == "Unreleased" and len(sections) >= 2
    kinds = set(re.findall(r"^### (\w+)", text, re.MULTILINE))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_security_policy_says_how_to_report_and_what_is_in_scope():
    text = read("SECURITY.md")
    assert "## Reporting a vulnerability" in text and "## In scope" in text
    assert "SECURITY_CONTACT" in text
    assert not re.search(r"<[^>]*>|\bTODO\b|example\.(com|org)", text), "no placeholders in the process"
