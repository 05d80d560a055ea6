"""The class report: what an instructor wants to see after grading, which no gradebook shows.

Rules of this file:

* ``python -m autograder.classroom report ASSIGNMENT [--out FILE]`` writes one HTML page
  (charts are matplotlib PNGs embedded in the page, so it is a single file to share).
* Scores come from the gradebook only; what went wrong comes from the grader's JSON
  record (``verdicts/ASSIGNMENT/STUDENT/NOTEBOOK.json``, written by
  :class:`autograder.classroom.SandboxGrades`): its feedback sentences and misconception ids.
* Per assignment: the distribution of total scores.  Per exercise: the distribution of
  scores, the required flows missed most (a flow of the definition's ``allowed``/``denied``
  requirements, or a flow to predict, named at the start of a feedback sentence), and how
  often the grader named each misconception.  Every flow table links to the lesson the
  exercise follows, every misconception to the lesson section that teaches it
  (:data:`MISCONCEPTION_SECTIONS`, resolved against the lessons' headings).
* :func:`build` returns the data (tested); :func:`render` turns it into HTML.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from autograder.exercise import UnknownExerciseError, load_exercise
from autograder.feedback import MISCONCEPTION_TITLES
from autograder.snapshot import read_nofollow

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO_ROOT / "lessons"

# misconception id -> (lesson number, words of the heading of the section that teaches it)
MISCONCEPTION_SECTIONS: dict[str, tuple[str, str]] = {
    "or-instead-of-and": ("05", "AND vs OR"),
    "empty-pod-selector": ("05", "empty selectors"),
    "wrong-namespace": ("04", "namespaced object"),
    "service-port": ("05", "Service port is not the pod port"),
    "dns-udp-and-tcp": ("05", "DNS"),
    "policy-types-omitted": ("04", "policyTypes"),
    "egress-isolated-no-rules": ("04", "Once selected"),
    "named-port-undefined": ("07", "Named ports"),
    "pod-selector-namespace-scoped": ("05", "podSelector only looks"),
    "selector-matches-nothing": ("04", "labels and podSelector"),
    "pod-ip-in-ipblock": ("07", "ipBlock"),
    "peers-and-ports-merged": ("07", "One rule or two"),
}


@dataclass(frozen=True)
class Link:
    text: str
    href: str


def _lesson_file(lesson: str, lessons_dir: Path) -> Path | None:
    found = sorted(lessons_dir.glob(f"{lesson}-*.ipynb"))
    return found[0] if found else None


def lesson_link(lesson: str | None, words: str | None, lessons_dir: Path, base: str) -> Link | None:
    """A link to lesson ``lesson`` (``"05"``), at the section whose heading holds ``words``.

    The anchor is JupyterLab's: the heading text with spaces as ``-``.  Without a matching
    heading the link goes to the lesson itself.
    """
    if lesson is None:
        return None
    path = _lesson_file(lesson, lessons_dir)
    if path is None:
        return None
    href = f"{base.rstrip('/')}/{quote(path.name)}"
    title = f"lesson {lesson}"
    if words:
        pair = path.with_suffix(".py")
        text = pair.read_text(encoding="utf-8") if pair.is_file() else ""
        for match in re.finditer(r"^# ## (.+)$", text, flags=re.MULTILINE):
            heading = match.group(1).strip()
            if words.lower() in heading.lower():
                return Link(
                    f"lesson {lesson}, {heading}", f"{href}#{quote(heading.replace(' ', '-'))}"
                )
    return Link(title, href)


@dataclass
class ExerciseStats:
    exercise: str
    title: str
    max_score: float
    scores: list[float] = field(default_factory=list)
    missed: Counter[str] = field(default_factory=Counter)
    misconceptions: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    lesson: str | None = None


@dataclass
class ClassReport:
    assignment: str
    totals: dict[str, float]
    max_total: float
    exercises: dict[str, ExerciseStats]
    needs_review: list[str] = field(default_factory=list)


def _required_flows(exercise: str) -> tuple[list[str], str, str | None]:
    try:
        ex = load_exercise(exercise)
    except (UnknownExerciseError, ValueError):
        return [], exercise, None
    flows = [*ex.requirements.allowed, *ex.requirements.denied, *getattr(ex, "flows", ())]
    return [str(f) for f in flows], ex.title, ex.lesson


def _records(course: Path, assignment: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    folder = course / "verdicts" / assignment
    for path in sorted(folder.glob("*/*.json")) if folder.is_dir() else []:
        record = json.loads(read_nofollow(path).decode("utf-8"))
        out.setdefault(path.parent.name, []).append(record)
    return out


def build(course: Path, assignment: str) -> ClassReport:
    """The report's data from the gradebook and the grader's JSON records."""
    from nbgrader.api import Gradebook

    course = Path(course).resolve()
    totals: dict[str, float] = {}
    cell_scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        max_total = float(gb.find_assignment(assignment).max_score)
        for sub in gb.assignment_submissions(assignment):
            totals[sub.student_id] = float(sub.score)
            for nb in sub.notebooks:
                for g in nb.grades:
                    cell_scores.setdefault(g.name, {})[sub.student_id] = float(g.score)
    exercises: dict[str, ExerciseStats] = {}
    for name in sorted(cell_scores):
        exercise = name.removeprefix("test-")
        _, title, lesson = _required_flows(exercise)
        stats = ExerciseStats(exercise, title, 0.0, lesson=lesson)
        stats.scores = [cell_scores[name][s] for s in sorted(cell_scores[name])]
        exercises[exercise] = stats
    records = _records(course, assignment)
    review = []
    for student, recs in sorted(records.items()):
        for record in recs:
            if record.get("no_verdict"):
                review.append(f"{student}: {', '.join(record['no_verdict'])} had no verdict")
            for v in record["verdicts"]:
                _count(exercises, v)
    return ClassReport(assignment, totals, max_total, exercises, review)


def _count(exercises: dict[str, ExerciseStats], verdict: dict[str, Any]) -> None:
    stats = exercises.get(str(verdict["exercise"]))
    if stats is None:
        return
    stats.max_score = float(verdict["max_score"])
    flows, _, _ = _required_flows(stats.exercise)
    lines = [str(f) for f in verdict["feedback"]]
    if any("could not be read" in ln or "cannot be read" in ln for ln in lines):
        stats.unreadable += 1
    for flow in flows:
        if any(ln.startswith(f"{flow}:") for ln in lines):
            stats.missed[flow] += 1
    for m in set(verdict.get("misconceptions", [])):
        stats.misconceptions[str(m)] += 1


def _chart(values: list[float], max_score: float, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5, 2.4), dpi=90)
    top = max(max_score, max(values, default=0.0), 1.0)
    bins = min(max(int(top), 1), 20)
    ax.hist(values, bins=bins, range=(0, top), color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("points")
    ax.set_ylabel("learners")
    ax.set_title(title, fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def _a(link: Link | None) -> str:
    if link is None:
        return ""
    return f'<a href="{html.escape(link.href)}">{html.escape(link.text)}</a>'


def _table(heads: tuple[str, ...], rows: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return f"<table><tr>{head}</tr>{rows}</table>"


def _exercise_html(stats: ExerciseStats, lessons_dir: Path, base: str) -> list[str]:
    e = html.escape
    n = len(stats.scores)
    full = sum(1 for s in stats.scores if s >= stats.max_score > 0)
    parts = [
        f'<section id="{e(stats.exercise)}"><h2>{e(stats.title)} '
        f"<small>({e(stats.exercise)})</small></h2>",
        f"<p>{full} of {n} learners earned full marks; "
        f"{stats.unreadable} answers could not be read.</p>",
        _chart(stats.scores, stats.max_score, f"{stats.exercise}: scores"),
    ]
    lesson = _a(lesson_link(stats.lesson, None, lessons_dir, base))
    parts.append("<h3>Required flows missed most</h3>")
    if stats.missed:
        rows = "".join(
            f"<tr><td><code>{e(flow)}</code></td><td>{count}</td><td>{lesson}</td></tr>"
            for flow, count in stats.missed.most_common()
        )
        parts.append(_table(("flow", "learners", "taught in"), rows))
    else:
        parts.append("<p>No required flow was missed.</p>")
    parts.append("<h3>Misconceptions the grader named</h3>")
    if stats.misconceptions:
        rows = ""
        for mid, count in stats.misconceptions.most_common():
            lesson_no, words = MISCONCEPTION_SECTIONS.get(mid, (stats.lesson or "", ""))
            link = lesson_link(lesson_no or None, words or None, lessons_dir, base)
            label = MISCONCEPTION_TITLES.get(mid, mid)
            rows += (
                f"<tr><td><code>{e(mid)}</code>: {e(label)}</td><td>{count}</td>"
                f"<td>{_a(link)}</td></tr>"
            )
        parts.append(_table(("misconception", "learners", "taught in"), rows))
    else:
        parts.append("<p>None.</p>")
    parts.append("</section>")
    return parts


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
)


def render(report: ClassReport, lessons_dir: Path = LESSONS_DIR, base: str = "") -> str:
    """The HTML page of ``report``; lesson links are ``base/LESSON.ipynb#SECTION``."""
    e = html.escape
    totals = list(report.totals.values())
    mean = sum(totals) / len(totals) if totals else 0.0
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(report.assignment)}: "
        f"class report</title><style>{STYLE}</style></head><body>",
        f"<h1>Class report: {e(report.assignment)}</h1>",
        f"<p>{len(totals)} learners graded; mean {mean:.2f} of {report.max_total:g} points.</p>",
        _chart(totals, report.max_total, f"{report.assignment}: total scores"),
    ]
    if report.needs_review:
        items = "".join(f"<li>{e(r)}</li>" for r in report.needs_review)
        parts.append(f"<h2>Needs manual grading</h2><ul>{items}</ul>")
    parts.append(
        "<ul>"
        + "".join(
            f'<li><a href="#{e(x)}">{e(s.title)}</a></li>' for x, s in report.exercises.items()
        )
        + "</ul>"
    )
    for stats in report.exercises.values():
        parts += _exercise_html(stats, lessons_dir, base)
    parts.append("</body></html>")
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    course = Path(args.course).resolve()
    out = Path(args.out or course / "reports" / f"{args.assignment}.html").resolve()
    base = args.lessons_url or os.path.relpath(LESSONS_DIR, out.parent)
    try:
        data = build(course, args.assignment)
    except Exception as exc:
        print(f"report: cannot read the gradebook of {args.assignment}: {exc}")
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data, LESSONS_DIR, base), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def add_parser(sub: Any, default_course: Path) -> None:
    p = sub.add_parser("report", help="write the class report (HTML) of a graded assignment")
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=default_course)
    p.add_argument("--out", type=Path, help="HTML file (default: COURSE/reports/ASSIGNMENT.html)")
    p.add_argument("--lessons-url", help="where the lessons are served (default: relative path)")
    p.set_defaults(run=run)
