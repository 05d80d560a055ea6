"""Read manifests (YAML or JSON) into a :class:`~npcore.cluster.Cluster`, strictly.

It decodes what ``kubectl apply -f`` reads and refuses what the API server refuses, saying
where: every error carries the file, line and column (1-based) of the field it is about.
It takes text (:func:`load_text`, or ``(name, text)`` pairs with :func:`load_sources`) and
never touches files or streams: reading them is the command-line layer's job
(:mod:`npcore.cli.sources`).

The package, by concern (each module states its rules):

* :mod:`npcore.load.yaml_safe`: the hardened YAML reader (limits, marks, syntax errors),
  also for text that is not a manifest (:func:`~npcore.load.yaml_safe.read_plain`);
* :mod:`npcore.load.fields`: the typed node readers and the decoding context;
* :mod:`npcore.load.policy`: the strict NetworkPolicy decoder;
* :mod:`npcore.load.objects`: the lenient Namespace, Pod, Service and workload decoders;
* :mod:`npcore.load.registry`: the ``kubectl apply`` stand-in that keeps the objects and
  makes the :class:`LoadResult`;
* this module: the public functions.

Rules of this file:

* Input: YAML or JSON, several documents per text (``---``), ``kind: List`` (and any
  ``...List`` kind) with ``items``.
* Parsing uses PyYAML's event parser (libyaml's when available) and npcore's own composer,
  which keeps the marks, refuses hostile input (see :class:`Limits`) before building
  anything large, and lets the decoder see duplicate keys, which the API server's strict
  decoding rejects (``duplicate field "x"``).
* ``NetworkPolicy`` is decoded strictly: every field is known (unknown fields are reported
  with a "did you mean" suggestion), every type checked, ``apiVersion`` must be
  ``networking.k8s.io/v1``; then :func:`npcore.validate.validate_network_policy` runs, and
  each of its errors is placed at the node of its path (or the nearest parent present).
  A policy with errors is left out of the cluster.
* ``Namespace``, ``Pod``, ``Service`` and the workloads (``Deployment``, ``ReplicaSet``,
  ``StatefulSet``, ``DaemonSet``, ``Job``) are read leniently: only the fields npcore needs
  are read (labels, container ports, ``status.podIP``, a Service's selector and ports) and
  the rest ignored.  Label values written as plain YAML scalars (``version: 1.10``,
  ``enabled: yes``) are read as the text written.
* A workload gives ``replicas`` pods (default 1; a Job gives ``parallelism``, a DaemonSet
  one) named ``NAME-0`` ... ``NAME-(n-1)``, labelled from ``spec.template``.
* Other kinds are skipped with a :class:`~npcore.errors.Notice`.  An object with the kind,
  namespace and name of an earlier one replaces it (as ``kubectl apply`` does), with a
  notice; so does a pod with the ``namespace/name`` of an earlier pod.
* ``metadata.namespace`` absent means ``default``.
* Nothing but npcore's own errors ever escapes: any input gives a :class:`LoadResult`.
"""

from __future__ import annotations

from collections.abc import Iterable

from npcore.cluster import Cluster
from npcore.cni import DEFAULT_CNI
from npcore.errors import FieldError, ParseError, ValidationError
from npcore.load.registry import (
    SUPPORTED_KINDS,
    LoadResult,
    Source,
    _load_into,
    _load_sources,
    _Loading,
    _unique,
)
from npcore.load.yaml_safe import DEFAULT_LIMITS, Limits
from npcore.model import NetworkPolicy

__all__ = [
    "DEFAULT_LIMITS",
    "SUPPORTED_KINDS",
    "Limits",
    "LoadResult",
    "Source",
    "load_cluster",
    "load_sources",
    "load_text",
    "parse_policies",
]


# --- public API ---------------------------------------------------------------------------------


def load_text(
    text: str,
    filename: str = "<string>",
    *,
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load manifests from ``text`` (named ``filename`` in errors)."""
    load = _Loading(limits)
    _load_into(load, text, filename)
    return load.result(cni)


def load_sources(
    sources: Iterable[Source],
    *,
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load manifests from ``(name, text)`` pairs, in order, as one input (a later object
    with the kind, namespace and name of an earlier one replaces it).  A source given as a
    :class:`FieldError` instead of text could not be read; its error is recorded in order.

    >>> pod = "{apiVersion: v1, kind: Pod, metadata: {name: a}}"
    >>> r = load_sources([("a.yaml", pod), ("b.yaml", "")])
    >>> [p.key for p in r.cluster.pods], [str(e) for e in r.errors]
    (['default/a'], ['b.yaml:1:1: no objects found: the file is empty (or only comments)'])
    """
    load = _Loading(limits)
    _load_sources(load, sources)
    return load.result(cni)


def load_cluster(
    text: str | None = None,
    filename: str = "<string>",
    *,
    sources: Iterable[Source] = (),
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> Cluster:
    """The cluster of ``sources`` and then ``text``; raises
    :class:`~npcore.errors.ValidationError` with every error when anything is wrong.
    (``npcore.load_cluster`` also takes file paths: :func:`npcore.cli.sources.load_cluster`.)
    """
    load = _Loading(limits)
    _load_sources(load, sources)
    if text is not None:
        _load_into(load, text, filename)
    result = load.result(cni)
    if not result.ok:
        raise ValidationError(result.errors)
    return result.cluster


def parse_policies(text: str, filename: str = "<string>") -> tuple[NetworkPolicy, ...]:
    """The NetworkPolicies in ``text``, in order (a later one with the same namespace and
    name replaces an earlier one).

    Raises :class:`~npcore.errors.ParseError` when the text cannot be read or decoded (or
    holds an object of another kind), :class:`~npcore.errors.ValidationError` when it
    decodes and the API server would refuse a policy.  Both carry every error.
    """
    load = _Loading(DEFAULT_LIMITS)
    _load_into(load, text, filename)
    others = [(f, o) for f, o in load.objects.values() if not isinstance(o.value, NetworkPolicy)]
    for file, obj in others:
        load.errors.append(
            FieldError.syntax(
                f"expected only NetworkPolicy objects here, found {obj.kind} {obj.name}",
                "kind",
            ).at(file, obj.line)
        )
        load.parse_errors += 1
    for file, line, kind in load.skipped:
        load.errors.append(
            FieldError.syntax(
                f"expected only NetworkPolicy objects here, found kind {kind}", "kind"
            ).at(file, line)
        )
        load.parse_errors += 1
    errors = tuple(_unique(load.errors))
    if load.parse_errors:
        raise ParseError(errors)
    if errors:
        raise ValidationError(errors)
    return tuple(o.value for _, o in load.objects.values() if isinstance(o.value, NetworkPolicy))
