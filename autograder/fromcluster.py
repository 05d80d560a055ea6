"""Grade the NetworkPolicies of a real cluster: ``npgrade EXERCISE --from-cluster FILE``.

The input is what ``kubectl get networkpolicies -A -o yaml`` prints: a ``v1 List`` whose
items carry what the API server adds (``status``, ``metadata.managedFields``,
``resourceVersion``, ``uid``, ``creationTimestamp``, ``generation``, annotations such as
``kubectl.kubernetes.io/last-applied-configuration``).  Rules:

* ``status`` (which API servers before 1.28 print as ``status: {}``) is set by the server,
  never by a manifest; it is blanked out before npcore's strict decoder reads the text,
  keeping every line and column, so errors still point at the dump as written.
* Only policies in the exercise's namespaces are graded; a policy elsewhere (a network
  plugin's own, say ``calico-apiserver/allow-apiserver``) cannot select the exercise's
  pods and is listed as ignored.
* A policy with the namespace and name of one of the scenario's own policies is that
  policy as it now is on the cluster (changed, or unchanged); a scenario policy missing
  from the dump was deleted.  Every other policy is the learner's answer (what the
  constraints on name, namespace and count look at).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from autograder import feedback as fb
from autograder.judge import grade_policies
from autograder.loaded import LoadedExercise
from autograder.results import GradeResult
from npcore.load import parse_policies
from npcore.model import NetworkPolicy

__all__ = ["ClusterGrade", "grade_from_cluster", "strip_server_fields"]

SERVER_FIELDS = ("status",)


def _objects(document: yaml.Node) -> list[yaml.MappingNode]:
    """The objects of one YAML document: a List's items, or the document itself."""
    if not isinstance(document, yaml.MappingNode):
        return []
    for key, value in document.value:
        if key.value == "items" and isinstance(value, yaml.SequenceNode):
            return [n for n in value.value if isinstance(n, yaml.MappingNode)]
    return [document]


def strip_server_fields(text: str) -> str:
    """``text`` with the ``status`` of every object blanked out (spaces; newlines kept).

    >>> strip_server_fields("kind: NetworkPolicy\\nstatus: {}\\n")
    'kind: NetworkPolicy\\n          \\n'
    """
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return text  # npcore's reader reports the syntax error with its position
    spans = []
    for document in documents:
        for obj in _objects(document):
            for key, value in obj.value:
                if isinstance(key, yaml.ScalarNode) and key.value in SERVER_FIELDS:
                    spans.append((key.start_mark.index, value.end_mark.index))
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


@dataclass(frozen=True)
class ClusterGrade:
    """The grade, and what was read from the dump besides the answer."""

    result: GradeResult
    answer: tuple[str, ...]  # the learner's policies (namespace/name)
    scenario: tuple[str, ...]  # the scenario's own policies found on the cluster
    ignored: tuple[str, ...]  # policies outside the exercise's namespaces

    def notes(self) -> list[str]:
        """One line each: what was graded, what was ignored."""
        lines = [
            "Graded from the cluster: "
            + (fb.name_list(self.answer) if self.answer else "no NetworkPolicy of yours")
            + "."
        ]
        if self.scenario:
            lines.append(
                "The scenario's own policies, as on the cluster: " + fb.name_list(self.scenario)
            )
        if self.ignored:
            lines.append(
                "Ignored (in namespaces this exercise does not use): " + fb.name_list(self.ignored)
            )
        return lines


def grade_from_cluster(exercise: LoadedExercise, text: str, filename: str) -> ClusterGrade:
    """Grade the policies of a ``kubectl get networkpolicies -A -o yaml`` dump.

    Raises :class:`~npcore.errors.NpcoreError` (with every error, ``FILE:LINE:COL``) when
    the dump cannot be read as NetworkPolicies.
    """
    policies = parse_policies(strip_server_fields(text), filename)
    scenario = exercise.scenario
    namespaces = {ns.name for ns in scenario.namespaces} | {p.namespace for p in scenario.pods}
    own = {p.key for p in scenario.policies}
    inside = [p for p in policies if p.namespace in namespaces]
    ignored = tuple(p.key for p in policies if p.namespace not in namespaces)
    current: list[NetworkPolicy] = [p for p in inside if p.key in own]
    answer = [p for p in inside if p.key not in own]
    result = grade_policies(exercise, answer, scenario_policies=current)
    return ClusterGrade(
        result, tuple(p.key for p in answer), tuple(p.key for p in current), ignored
    )
