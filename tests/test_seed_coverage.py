"""Every point of the seed notes is taught: bullet -> lesson -> section -> keyword.

The table below is the single source of ``docs/seed-coverage.md``; regenerate the
document with ``.venv/bin/python tests/test_seed_coverage.py --write``.  Each row quotes
a short key phrase of one bullet of ``shared/seed/network-policy-notes.txt`` (in order),
names the lesson and the ``##`` section that teaches it, and a keyword that must appear
in that section (compared case-insensitively, ignoring ``**``, backquotes and line
breaks).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "seed-coverage.md"
# shared/ lies beside the checkout (CI copies it there too); /work/shared is this
# workplace's own copy, used when the checkout is elsewhere.
SEED = next(
    (
        p
        for p in (
            ROOT.parent / "shared" / "seed" / "network-policy-notes.txt",
            Path("/work/shared/seed/network-policy-notes.txt"),
        )
        if p.is_file()
    ),
    ROOT.parent / "shared" / "seed" / "network-policy-notes.txt",
)


class Point(NamedTuple):
    seed: str  # a key phrase quoted from the seed bullet
    lesson: str  # notebook stem
    section: str  # the `## ` heading, without the hashes
    keyword: str  # must appear in that section


L1, L2, L3 = "01-traffic-direction", "02-three-tier-rules", "03-kubernetes-networking"
L4, L5, L6 = "04-the-networkpolicy-object", "05-three-tier-policy", "06-enforcement-and-cnis"

S1_1 = "1. A three-tier application"
S1_2 = "2. Ingress and egress"
S1_3 = "3. Only the start of the connection counts"
S1_4 = "4. The API server and the database server"
S2_1 = "1. Listing the rules"
S3_1 = "1. Every node, pod and Service has an IP"
S3_2 = "2. Pods reach each other with no extra routes"
S3_3 = "3. Services for the pods and for the users"
S3_4 = "4. The default: all allow"
S3_5 = "5. What we want instead"
S4_1 = "1. A namespaced object"
S4_2 = "2. Linking a policy to pods: labels and podSelector"
S4_3 = "3. Once selected, the pod is isolated in the policy's directions"
S4_4 = "4. policyTypes: which directions"
S4_5 = "5. Ingress rules: from and ports"
S6_1 = "1. The network plugin enforces policies"
S6_2 = "2. Which plugins enforce them"
S6_3 = "3. On Flannel: created, no error, no effect"

POINTS = [
    Point("There are many configurations for an application", L1, S1_1, "many shapes"),
    Point("A user sends a request to the web server", L1, S1_1, "asks the api server"),
    Point("There are two types of traffic", L1, S1_2, "two kinds of traffic"),
    Point(
        "the traffic coming in from users is an ingress traffic",
        L1,
        S1_2,
        "the request from the user comes in: for the web server it is ingress",
    ),
    Point("the direction in which the traffic originated", L1, S1_3, "originated"),
    Point("The response back to the user doesn't really matter", L1, S1_3, "response does not"),
    Point(
        "For an API server, it receives ingress traffic from the web server",
        L1,
        S1_4,
        "receives ingress traffic from the web server, and sends egress traffic",
    ),
    Point(
        "The DB server receives ingress traffic from the API server",
        L1,
        S1_4,
        "database server receives ingress traffic from the api server",
    ),
    Point("If required rules to get the", L2, S2_1, "write one rule per component"),
    Point("an ingress rule that is required to accept HTTP traffic", L2, S2_1, "users (http)"),
    Point(
        "an egress rule to allow traffic from the web server to the API server",
        L2,
        S2_1,
        "| web server | egress | to the api server |",
    ),
    Point(
        "an ingress rule to accept traffic on the API server",
        L2,
        S2_1,
        "| api server | ingress | from the web server |",
    ),
    Point(
        "an egress to allow traffic on the DB server",
        L2,
        S2_1,
        "| api server | egress | to the database server |",
    ),
    Point(
        "an ingress rule to accept traffic on the DB server",
        L2,
        S2_1,
        "| database server | ingress | from the api server |",
    ),
    Point(
        "each node, pod, and services have their own IP address",
        L3,
        S3_1,
        "each pod gets its own ip address",
    ),
    Point(
        "without having to configure any additional settings like routes",
        L3,
        S3_2,
        "without configuring anything more, such as routes",
    ),
    Point("by their IP addresses, pod names, or services", L3, S3_2, "by a dns name"),
    Point('"All Allow" rule', L3, S3_4, '"all allow" default'),
    Point("for each component in the application, we deploy a pod", L3, S3_1, "one pod per"),
    Point(
        "Create services to enable communication between the pods as well as the end users",
        L3,
        S3_3,
        "the users) talk to the service",
    ),
    Point(
        "allow traffic to the DB server only from the API server",
        L3,
        S3_5,
        "the database accepts traffic only from the api server",
    ),
    Point(
        "A network policy is another object in the Kubernetes namespace",
        L4,
        S4_1,
        "one more kubernetes object",
    ),
    Point("You link a network policy to one ore more pods", L4, S4_2, "one or more pods"),
    Point("You can define rules within the network policy", L4, S4_5, "each rule says"),
    Point(
        "it blocks all other traffic to the pod",
        L4,
        S4_3,
        "traffic not allowed by a rule is blocked",
    ),
    Point(
        "only applicable to the pod on which the network policy is applied",
        L4,
        S4_3,
        "only applies to the selected pods",
    ),
    Point("use labels and selectors", L4, S4_2, "linked to one or more pods by labels"),
    Point(
        "apply the same labels on the",
        L4,
        S4_2,
        "put the same labels under spec.podselector.matchlabels",
    ),
    Point(
        "under policy types we specify whether the rule is to allow ingress or egress",
        L4,
        S4_4,
        "ingress, egress or both",
    ),
    Point(
        "Specify the ingress rule that allows traffic from the sending pod",
        L4,
        S4_5,
        "from picks the sending pods",
    ),
    Point("Then add the port of the sending pod", L4, S4_5, "ports lists the port and protocol"),
    Point(
        "The apiVersion for a network policy object is networking.k8s.io/v1",
        L4,
        S4_1,
        "apiversion is networking.k8s.io/v1 and its kind is networkpolicy",
    ),
    Point(
        "under the spec section,  add the podSelectors to apply the policy, then the rule",
        L4,
        S4_1,
        "under spec come the podselector",
    ),
    Point(
        "Network policies are enforced by the network solution",
        L6,
        S6_1,
        "network solution",
    ),
    Point(
        "kube-router, Calico, Romana and Weave-net",
        L6,
        S6_2,
        "older material (the notes this course grew from included) also lists romana and weave net",
    ),
    Point("Flannel does not", L6, S6_2, "flannel on its own does not"),
    Point(
        "Always refer to the network solution's documentation",
        L6,
        S6_2,
        "always check your network solution's documentation",
    ),
    Point(
        "you can still create the policies but they will just not be enforced",
        L6,
        S6_3,
        "you can still create policies",
    ),
    Point(
        "You will not get an error message",
        L6,
        S6_3,
        "no error or warning",
    ),
]


def normalise(text: str) -> str:
    """Lower case, no ``**`` or backquotes, comment-free, one space between words."""
    text = text.replace("**", "").replace("`", "").replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def section_text(lesson: str, heading: str) -> str | None:
    """The text of every cell under ``## heading`` in ``lesson``, up to the next ``##``."""
    nb = nbformat.read(ROOT / "lessons" / f"{lesson}.ipynb", as_version=4)
    parts: list[str] = []
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            if inside:
                break
            inside = cell.source.splitlines()[0][3:].strip() == heading
        if inside:
            parts.append(cell.source)
    return "\n".join(parts) if parts else None


def render() -> str:
    """``docs/seed-coverage.md``."""
    lines = [
        "# Seed coverage",
        "",
        "Every bullet of the seed notes (`shared/seed/network-policy-notes.txt`), in order,",
        "and where the course teaches it, in its own words. Generated from",
        "`tests/test_seed_coverage.py`, which checks that each section exists and contains",
        "the keyword; regenerate with `.venv/bin/python tests/test_seed_coverage.py --write`.",
        "",
        "Three bullets are taught with a correction: the seed's \"egress to allow traffic on",
        "the DB server\" is the API server's egress rule *to* the database (lesson 02), and",
        'its "port of the sending pod" is the port the receiving pod listens on (lesson 04).',
        'Its plugin list is updated: Romana and Weave Net are taught as what older material',
        "lists, next to the providers the Kubernetes documentation lists today (lesson 06).",
        "",
        "| # | Seed point (key phrase) | Lesson | Section | Keyword |",
        "|---|---|---|---|---|",
    ]
    for n, p in enumerate(POINTS, start=1):
        seed = p.seed.replace("|", "\\|")
        keyword = p.keyword.replace("|", "\\|")
        link = f"[{p.lesson}](../lessons/{p.lesson}.ipynb)"
        lines.append(f"| {n} | {seed} | {link} | {p.section} | {keyword} |")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("point", POINTS, ids=[f"{i:02d}" for i in range(1, len(POINTS) + 1)])
def test_seed_point_is_taught(point: Point) -> None:
    text = section_text(point.lesson, point.section)
    assert text is not None, f"{point.lesson} has no section '## {point.section}'"
    assert normalise(point.keyword) in normalise(text), (
        f"'{point.keyword}' is not in {point.lesson} § {point.section}"
    )


def test_every_seed_bullet_is_in_the_table_in_order() -> None:
    if not SEED.exists():
        pytest.skip(f"{SEED} is not available here")
    bullets = [
        normalise(line.strip()[2:])
        for line in SEED.read_text().splitlines()
        if line.strip()[:2] == "- "
    ]
    assert len(bullets) == len(POINTS)
    for bullet, point in zip(bullets, POINTS, strict=True):
        assert normalise(point.seed) in bullet, f"{point.seed!r} is not quoted from {bullet!r}"


def test_document_is_rendered_from_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/seed-coverage.md is stale: run .venv/bin/python tests/test_seed_coverage.py --write"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(render(), encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
