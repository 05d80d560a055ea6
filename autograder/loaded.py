"""A loaded exercise: the definition with its Kubernetes parts as npcore values.

Rules of this file:

* :class:`LoadedExercise` holds what every grading of one exercise shares, computed once
  when it is loaded: the scenario :class:`~npcore.cluster.Cluster` (with the definition's
  externals), the reference and alternative solutions as policies, and, in the universe of
  :mod:`autograder.universe` built from all of them, the connectivity of the scenario alone
  and with each correct solution.  No cache keyed by YAML text: the value is the cache.
* :meth:`LoadedExercise.judged_in` gives the universe and maps for one answer: the shared
  ones when the answer uses no label key or address boundary they lack, fresh ones otherwise.
* Broken Kubernetes parts raise :class:`~autograder.definition.ExerciseError` (an
  instructor error), never a learner-facing message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from autograder.definition import Exercise, ExerciseError
from autograder.universe import boundaries, label_keys, universe
from npcore.cluster import Cluster, External
from npcore.errors import NpcoreError
from npcore.load import load_cluster, parse_policies
from npcore.model import NetworkPolicy
from npcore.reachability import ConnectivityMap, connectivity_map

__all__ = ["Judging", "LoadedExercise", "load_definition"]


@dataclass(frozen=True)
class Judging:
    """The universe one answer is judged in, and the maps of the scenario and solutions."""

    cluster: Cluster
    before: ConnectivityMap
    expected: tuple[ConnectivityMap, ...]  # reference first, then each alternative

    def with_policies(self, policies: Sequence[NetworkPolicy]) -> ConnectivityMap:
        """The connectivity of the universe with ``policies`` added to the scenario's."""
        return connectivity_map(self.cluster.with_policies((*self.cluster.policies, *policies)))


@dataclass(frozen=True)
class LoadedExercise:
    """An exercise ready to grade (see the module docstring)."""

    definition: Exercise
    scenario: Cluster
    solutions: tuple[tuple[NetworkPolicy, ...], ...]  # reference first, then alternatives
    candidates: dict[str, tuple[NetworkPolicy, ...]]
    shared: Judging | None

    @property
    def id(self) -> str:
        """The exercise id."""
        return self.definition.id

    @property
    def reference(self) -> tuple[NetworkPolicy, ...]:
        """The reference solution's policies (empty for non-policy exercises)."""
        return self.solutions[0] if self.solutions else ()

    def judged_in(self, answer: Sequence[NetworkPolicy]) -> Judging:
        """The universe and maps for ``answer`` (shared when the answer adds nothing new)."""
        shared = self.shared
        base = [*self.scenario.policies, *(p for s in self.solutions for p in s)]
        if (
            shared is not None
            and label_keys(answer) <= label_keys(base)
            and boundaries(answer) <= boundaries(base)
        ):
            return shared
        return _judging(self.scenario, self.solutions, answer)


def _judging(
    scenario: Cluster,
    solutions: Sequence[Sequence[NetworkPolicy]],
    answer: Sequence[NetworkPolicy] = (),
) -> Judging:
    grown = universe(scenario, [*solutions, answer])
    base = grown.policies
    return Judging(
        grown,
        connectivity_map(grown),
        tuple(connectivity_map(grown.with_policies((*base, *s))) for s in solutions),
    )


def _policies(text: str, name: str, where: str, path: str) -> tuple[NetworkPolicy, ...]:
    try:
        return tuple(parse_policies(text, name))
    except NpcoreError as exc:
        raise ExerciseError(path, [f"{where}: {exc}"]) from None


def load_definition(exercise: Exercise) -> LoadedExercise:
    """Turn the manifests of ``exercise`` into npcore values (``ExerciseError`` if broken)."""
    path = exercise.path or exercise.id
    if exercise.kind == "choice" and not exercise.scenario.strip():
        return LoadedExercise(exercise, Cluster.build(), (), {}, None)
    try:
        cluster = load_cluster(text=exercise.scenario, filename="scenario", cni=exercise.cni)
    except NpcoreError as exc:
        raise ExerciseError(path, [f"scenario: {exc}"]) from None
    extra = tuple(External(name, ip) for name, ip in exercise.externals)
    scenario = replace(cluster, externals=(*cluster.externals, *extra))
    solutions: tuple[tuple[NetworkPolicy, ...], ...] = ()
    shared = None
    if exercise.kind == "policy":
        solutions = (
            _policies(exercise.reference, "reference", "reference", path),
            *(
                _policies(text, f"alternative {i + 1}", f"alternatives[{i}]", path)
                for i, text in enumerate(exercise.alternatives)
            ),
        )
        shared = _judging(scenario, solutions)
    candidates = {
        key: _policies(text, f"candidate {key}", f"candidates.{key}", path)
        for key, text in exercise.candidates.items()
    }
    return LoadedExercise(exercise, scenario, solutions, candidates, shared)
