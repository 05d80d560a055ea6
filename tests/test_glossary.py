"""The glossary (docs/glossary.md): every lesson links to it from its front cell, its links
lead to existing lessons, its terms are in alphabetical order, and its reference card is
a NetworkPolicy that npcore loads without a problem."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from npcore.load import parse_policies

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = (ROOT / "docs/glossary.md").read_text(encoding="utf-8")
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_front_cell_links_the_glossary(path: Path) -> None:
    front = nbformat.read(path, as_version=4).cells[0].source
    assert "](../docs/glossary.md)" in front


def test_glossary_links_lead_to_lessons() -> None:
    links = re.findall(r"\]\(\.\./lessons/([^)]+)\)", GLOSSARY)
    assert links
    for link in links:
        assert (ROOT / "lessons" / link).is_file(), link


def test_terms_are_in_alphabetical_order() -> None:
    terms = re.findall(r"^\*\*(.+?)\*\*$", GLOSSARY, re.M)
    assert len(terms) >= 20
    assert terms == sorted(terms, key=str.lower)


def test_reference_card_is_a_valid_policy() -> None:
    card = GLOSSARY.split("## Reference card", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    card = card.replace("name: NAME", "name: card").replace("namespace: NS", "namespace: shop")
    (policy,) = parse_policies(card, "glossary.md")
    assert policy.ingress and policy.egress
