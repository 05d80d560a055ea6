"""``npgrade``: grade NetworkPolicy exercises from the command line.

Usage::

    npgrade EXERCISE FILE... [--format text|json]   grade answer files ("-" = stdin)
    npgrade list [--format text|json]                list the exercises
    npgrade drill ID [--file FILE] [--format ...]    a timed, exam-style drill
    npgrade show EXERCISE [--manifests]              the task and its scenario, as kubectl shows it
    npgrade EXERCISE --from-cluster FILE             grade a cluster's policies (kubectl
                                                     get networkpolicies -A -o yaml; "-")

Exit status: 0 passed, 1 graded and not passed (invalid input included), 2 usage error
(unknown exercise, unreadable file, bad arguments).  Errors are sentences, never
tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TextIO

from autograder.catalog import list_exercises, load
from autograder.definition import ExerciseError, UnknownExerciseError
from autograder.drill import format_duration, run_drill, task_text
from autograder.fromcluster import grade_from_cluster
from autograder.grade import MAX_ANSWER_BYTES, grade_exercise
from autograder.loaded import LoadedExercise
from autograder.show import scenario_manifests, scenario_view
from npcore.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError
from npcore.cli.sources import check_readable, read_sources
from npcore.errors import FieldError, NpcoreError
from npcore.load import DEFAULT_LIMITS

__all__ = ["main"]

# The contract of npcore.cli.common: an answer that does not pass is an invalid input.
EXIT_PASSED, EXIT_FAILED = EXIT_OK, EXIT_INVALID
# Answers are read with the grader's bound (the rest of the bounds are the manifests').
ANSWER_LIMITS = replace(DEFAULT_LIMITS, max_bytes=MAX_ANSWER_BYTES)

USAGE = """\
usage: npgrade EXERCISE FILE... [--format text|json] [--reveal]   grade answer files ("-" = stdin)
       npgrade list [--format text|json]                list the exercises
       npgrade drill ID [--file FILE] [--format ...]    a timed, exam-style drill
       npgrade show EXERCISE [--manifests]              the task and its cluster (kubectl's view)
       npgrade EXERCISE --from-cluster FILE             grade a cluster's policies ("-" = stdin)
"""


class _Usage(Exception):
    """A usage error: printed to stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Usage(f"{self.prog}: {message}\n{self.format_usage().strip()}")


def _grade_parser() -> _Parser:
    p = _Parser(prog="npgrade", description="Grade answers to NetworkPolicy exercises.")
    p.add_argument("exercise", help="exercise id (see: npgrade list)")
    p.add_argument("files", nargs="*", metavar="FILE", help='answer files ("-" = stdin)')
    p.add_argument(
        "--from-cluster",
        metavar="FILE",
        help='grade the output of kubectl get networkpolicies -A -o yaml ("-" = stdin)',
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--reveal",
        action="store_true",
        help="self-study: show the right values of choice, pick and predict answers",
    )
    return p


def _show_parser() -> _Parser:
    p = _Parser(prog="npgrade show", description="The task, and its scenario as kubectl shows it.")
    p.add_argument("exercise", help="exercise id (see: npgrade list)")
    p.add_argument("--manifests", action="store_true", help="the scenario to kubectl apply")
    return p


def _list_parser() -> _Parser:
    p = _Parser(prog="npgrade list", description="List the exercises.")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def _drill_parser() -> _Parser:
    p = _Parser(prog="npgrade drill", description="A timed CKA-style drill.")
    p.add_argument("exercise", help="exercise id (see: npgrade list)")
    p.add_argument("--file", help="the file you write your answer in (read after Enter)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def _read(paths: Sequence[str], stdin: TextIO) -> list[tuple[str, str]]:
    """The answers, read as every command line reads its input (npcore.cli.sources)."""
    answers = []
    try:
        check_readable(paths)
        for name, text in read_sources(paths, limits=ANSWER_LIMITS, stdin=stdin):
            if isinstance(text, FieldError):
                raise _Usage(f"npgrade: cannot read {name}: {text.message}")
            answers.append((name, text))
    except UsageError as exc:
        raise _Usage(f"npgrade: {exc}") from None
    return answers


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    exercises = list_exercises()
    if args.format == "json":
        json.dump([e.listing() for e in exercises], out, indent=2)
        out.write("\n")
        return EXIT_PASSED
    width = max(len(e.id) for e in exercises)
    out.write(f"{'ID'.ljust(width)}  {'KIND':7}  {'POINTS':>6}  {'TIME':>5}  TITLE\n")
    for e in exercises:
        budget = format_duration(e.time_budget * 60) if e.time_budget else "-"
        points = f"{e.max_score:g}"
        title = f"[CKA] {e.title}" if e.cka else e.title
        out.write(f"{e.id.ljust(width)}  {e.kind:7}  {points:>6}  {budget:>5}  {title}\n")
    return EXIT_PASSED


def _cmd_show(exercise: LoadedExercise, manifests: bool, out: TextIO) -> int:
    """The task, then the scenario as kubectl shows it (never the reference, the
    alternatives or the graded examples); ``--manifests``: the scenario to apply."""
    if manifests:
        out.write(scenario_manifests(exercise))
    else:
        out.write(task_text(exercise.definition) + "\n" + scenario_view(exercise))
    return EXIT_PASSED


def _cmd_from_cluster(
    exercise: LoadedExercise, args: argparse.Namespace, inp: TextIO, out: TextIO
) -> int:
    if args.files:
        raise _Usage("npgrade: --from-cluster grades the cluster's policies: give no FILE")
    if exercise.definition.kind != "policy":
        raise _Usage(
            f"npgrade: {exercise.id} is a {exercise.definition.kind} exercise: --from-cluster "
            "grades policy exercises"
        )
    ((name, text),) = _read([args.from_cluster], inp)
    try:
        graded = grade_from_cluster(exercise, text, name)
    except NpcoreError as exc:
        raise _Usage(f"npgrade: {name} is not a list of NetworkPolicies:\n{exc}") from None
    if args.format == "json":
        json.dump(
            {
                **graded.result.to_dict(),
                "from_cluster": {
                    "answer": list(graded.answer),
                    "scenario": list(graded.scenario),
                    "ignored": list(graded.ignored),
                },
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        out.write("\n".join(graded.notes()) + "\n" + graded.result.text() + "\n")
    return EXIT_PASSED if graded.result.passed else EXIT_FAILED


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run ``npgrade`` and return the exit status (a reader that goes away, as in
    ``npgrade list | head``, is not an error: exit 0, no traceback)."""
    try:
        return _main(argv, stdin=stdin, stdout=stdout, stderr=stderr, clock=clock)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PASSED


def _main(
    argv: Sequence[str] | None,
    *,
    stdin: TextIO | None,
    stdout: TextIO | None,
    stderr: TextIO | None,
    clock: Callable[[], float],
) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    inp = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        if not args_list:
            err.write(USAGE)
            return EXIT_USAGE
        if args_list[0] in ("-h", "--help"):
            out.write(USAGE)
            return EXIT_PASSED
        if args_list[0] == "list":
            return _cmd_list(_list_parser().parse_args(args_list[1:]), out)
        if args_list[0] == "show":
            args = _show_parser().parse_args(args_list[1:])
            return _cmd_show(load(args.exercise), args.manifests, out)
        if args_list[0] == "drill":
            args = _drill_parser().parse_args(args_list[1:])
            exercise = load(args.exercise)
            try:
                # In JSON mode the task goes to stderr, so stdout is one JSON document.
                screen = err if args.format == "json" else out
                drill = run_drill(exercise, file=args.file, stdin=inp, stdout=screen, clock=clock)
            except UsageError as exc:
                raise _Usage(f"npgrade: {exc}") from None
            if args.format == "json":
                json.dump(drill.to_dict(), out, indent=2)
                out.write("\n")
            else:
                out.write("\n" + drill.result.text() + "\n" + drill.time_line() + "\n")
            return EXIT_PASSED if drill.result.passed else EXIT_FAILED
        args = _grade_parser().parse_args(args_list)
        exercise = load(args.exercise)
        if args.from_cluster is not None:
            return _cmd_from_cluster(exercise, args, inp, out)
        if not args.files:
            raise _Usage(
                "npgrade: the following arguments are required: FILE (or --from-cluster FILE)\n"
                + USAGE.strip()
            )
        answers = _read(args.files, inp)
        result = grade_exercise(exercise, answers, reveal=args.reveal)
        if args.format == "json":
            json.dump(result.to_dict(), out, indent=2)
            out.write("\n")
        else:
            out.write(result.text() + "\n")
        return EXIT_PASSED if result.passed else EXIT_FAILED
    except _Usage as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    except UnknownExerciseError as exc:
        err.write(f"npgrade: {exc}\n")
        return EXIT_USAGE
    except ExerciseError as exc:
        err.write(f"npgrade: the exercise definition is broken:\n{exc}\n")
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
