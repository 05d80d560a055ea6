"""Compare a real cluster's observations with npcore's prediction, cell by cell.

Both sides are ``npcore matrix --format json`` documents (``{"port", "protocol", "cni",
"enforced", "peers", "allowed"}``), one per probed port and protocol, as a list (what
``npcore probe`` writes in ``expected.json`` and its ``run.sh`` in ``observed.json``) or
a single document.  Rules of the comparison:

* Every expected document needs an observed document for the same port and protocol,
  over the same peers, with a ``true``/``false`` in every cell; anything else is
  unusable input (:class:`ProbeInputError`, exit status 2 on the command line), named
  with the file, the document and the field.
* A cell **differs** when the observation is not the prediction.  Each difference is
  explained: which side, what npcore expected, what happened, and the ``npcore explain``
  command that shows the rules deciding it.
* **Not enforced**: when every observed cell is allowed while npcore predicts at least
  one denied cell, the cluster's network plugin does not enforce NetworkPolicy (Flannel
  alone, kind before v0.24, a policy controller that is not running): the comparison
  says so instead of blaming each cell.
* **Probe failed**: when no observed cell is allowed, not even a pod to itself (which
  npcore always expects), the probe did not run: pods not running, the image not
  pulled, or ``kubectl exec`` refused.  The comparison says so.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Comparison",
    "Difference",
    "MatrixDocument",
    "ProbeInputError",
    "compare",
    "comparison_text",
    "parse_documents",
]


class ProbeInputError(ValueError):
    """Unusable expected or observed input: the message says where and what to do."""


@dataclass(frozen=True, slots=True)
class MatrixDocument:
    """One port and protocol: the peers, and ``allowed[src][dst]``."""

    port: int
    protocol: str
    peers: tuple[str, ...]
    allowed: dict[str, dict[str, bool]]
    cni: str | None = None

    @property
    def label(self) -> str:
        """``TCP 80``."""
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True, slots=True)
class Difference:
    """A cell where the cluster did not do what npcore predicted."""

    port: int
    protocol: str
    src: str
    dst: str
    expected: bool
    observed: bool

    @property
    def text(self) -> str:
        """The cell, what npcore expected, what happened, and the command that shows
        npcore's reasons."""
        what = (
            "expected ALLOWED, did not connect" if self.expected else "expected DENIED, connected"
        )
        return (
            f"{self.protocol} {self.port}: {self.src} -> {self.dst}: {what} "
            f"(why npcore decides so: npcore explain FILES --from {self.src} --to {self.dst} "
            f"--port {self.port} --protocol {self.protocol})"
        )


_HINTS = {
    True: "npcore expects these ALLOWED; the cluster did not connect (a timeout or a refusal). "
    "Likely: another policy on the cluster blocks them, the plugin enforces a rule "
    "differently (predict again with npcore's --cni set to your plugin), or a server pod "
    "was not ready.",
    False: "npcore expects these DENIED; the cluster connected. Likely: a blocking policy is "
    "not applied (kubectl get networkpolicies -A: right namespace, right labels?), or the "
    "plugin does not enforce it.",
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome: the cells compared, those that differ, and whether the cluster
    behaves as if policies were not enforced."""

    cells: int
    differences: tuple[Difference, ...]
    not_enforced: bool
    cni: str | None
    probe_failed: bool = False

    @property
    def agrees(self) -> bool:
        """Every cell as predicted."""
        return not self.differences


def _fail(name: str, where: str, message: str) -> ProbeInputError:
    return ProbeInputError(f"{name}: {where}: {message}")


def _document(data: object, name: str, where: str) -> MatrixDocument:
    if not isinstance(data, dict):
        raise _fail(name, where, "expected a matrix document (a JSON object), see expected.json")
    missing = [k for k in ("port", "protocol", "peers", "allowed") if k not in data]
    if missing:
        raise _fail(name, where, f"missing {', '.join(missing)}: write the npcore matrix schema")
    port, protocol, peers, allowed = (data[k] for k in ("port", "protocol", "peers", "allowed"))
    if not isinstance(port, int) or isinstance(port, bool):
        raise _fail(name, f"{where}.port", f"{port!r} is not a port number")
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise _fail(name, f"{where}.protocol", f"{protocol!r} is not TCP, UDP or SCTP")
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise _fail(name, f"{where}.peers", "must be a list of peer names")
    if not isinstance(allowed, dict):
        raise _fail(name, f"{where}.allowed", "must map each source to its row")
    table: dict[str, dict[str, bool]] = {}
    for src in peers:
        row = allowed.get(src)
        if not isinstance(row, dict):
            raise _fail(name, f"{where}.allowed[{src!r}]", "missing row (did run.sh finish?)")
        for dst in peers:
            cell = row.get(dst)
            if not isinstance(cell, bool):
                raise _fail(
                    name, f"{where}.allowed[{src!r}][{dst!r}]", f"{cell!r} is not true or false"
                )
        table[src] = {dst: row[dst] for dst in peers}
    cni = data.get("cni")
    return MatrixDocument(
        port, protocol, tuple(peers), table, cni if isinstance(cni, str) else None
    )


def parse_documents(data: object, name: str) -> tuple[MatrixDocument, ...]:
    """Read a list of matrix documents (or one) from parsed JSON; ``name`` is the file."""
    if isinstance(data, dict):
        return (_document(data, name, "document"),)
    if not isinstance(data, list) or not data:
        raise _fail(name, "top level", "expected a list of matrix documents (or one document)")
    docs = tuple(_document(d, name, f"[{i}]") for i, d in enumerate(data))
    seen: set[tuple[int, str]] = set()
    for doc in docs:
        if (doc.port, doc.protocol) in seen:
            raise _fail(name, doc.label, "probed twice: keep one document per port and protocol")
        seen.add((doc.port, doc.protocol))
    return docs


def compare(
    expected: tuple[MatrixDocument, ...],
    observed: tuple[MatrixDocument, ...],
    observed_name: str = "observed",
) -> Comparison:
    """Compare cell by cell (see the module docstring for the rules)."""
    by_target = {(d.port, d.protocol): d for d in observed}
    differences: list[Difference] = []
    cells = denied_expected = allowed_observed = 0
    for exp in expected:
        obs = by_target.get((exp.port, exp.protocol))
        if obs is None:
            raise _fail(
                observed_name, exp.label, "not probed: run run.sh from the same npcore probe"
            )
        if set(obs.peers) != set(exp.peers):
            extra = sorted(set(obs.peers) - set(exp.peers))
            lacking = sorted(set(exp.peers) - set(obs.peers))
            raise _fail(
                observed_name,
                f"{exp.label}.peers",
                f"not the expected peers (missing {lacking or 'none'}, unexpected "
                f"{extra or 'none'}): probe the scenario npcore probe wrote",
            )
        for src in exp.peers:
            for dst in exp.peers:
                want, got = exp.allowed[src][dst], obs.allowed[src][dst]
                cells += 1
                denied_expected += not want
                allowed_observed += got
                if want != got:
                    differences.append(Difference(exp.port, exp.protocol, src, dst, want, got))
    not_enforced = bool(differences) and denied_expected > 0 and allowed_observed == cells
    probe_failed = bool(differences) and allowed_observed == 0
    cni = expected[0].cni if expected else None
    return Comparison(cells, tuple(differences), not_enforced, cni, probe_failed)


def comparison_text(comparison: Comparison) -> str:
    """The report ``npcore probe compare`` prints: a verdict line, then every difference."""
    n = len(comparison.differences)
    if comparison.agrees:
        return f"AGREE: all {comparison.cells} cells as npcore predicted" + (
            f" (CNI {comparison.cni})." if comparison.cni else "."
        )
    lines = [f"DIFFER: {n} of {comparison.cells} cells are not as npcore predicted."]
    if comparison.not_enforced:
        lines.append(
            "Every connection succeeded, including the "
            f"{n} npcore expects to be blocked: this cluster's network plugin does not "
            "enforce NetworkPolicy (policies are accepted and have no effect). Flannel alone "
            "and kind before v0.24 behave so; install a plugin that enforces policies "
            "(Calico, Cilium, Antrea, kube-router, or kind v0.24+), or compare with the "
            "prediction of `npcore matrix ... --cni flannel`."
        )
    if comparison.probe_failed:
        lines.append(
            "No connection succeeded, not even from a pod to itself, which no policy can "
            "block: the probe itself failed. Check that the pods run (kubectl get pods -A; "
            "the agnhost image must be pullable) and that kubectl exec works, then run "
            "run.sh again."
        )
    for expected in (True, False):
        group = [d for d in comparison.differences if d.expected is expected]
        if group:
            lines.append(f"{len(group)} cell(s): {_HINTS[expected]}")
            lines.extend(f"- {d.text}" for d in group)
    return "\n".join(lines)
