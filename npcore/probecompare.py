"""Compare a real cluster's observations with npcore's prediction, cell by cell.

Both sides are ``npcore matrix --format json`` documents (``{"port", "protocol", "cni",
"enforced", "peers", "allowed"}``), one per probed port and protocol, as a list (what
``npcore probe`` writes in ``expected.json`` and its ``run.sh`` in ``observed.json``) or
a single document.  Rules of the comparison:

* Every expected document needs an observed document for the same port and protocol,
  over the same peers, with a ``true``/``false`` in every cell (and no cell for a pod
  that is not a peer); anything else is unusable input (:class:`ProbeInputError`, exit
  status 2 on the command line), named with the file, the document and the cell.  An
  observation of several ports must be the list ``run.sh`` writes, not one document.
* ``rejected`` (optional, written by ``run.sh``): the ``[source, destination]`` cells
  that were refused (``REFUSED``, or a network error such as "no route to host") rather
  than timed out.  They count as not connected: a plugin that rejects blocked
  connections (kube-router, so k3s) refuses them, so a refused cell that npcore expects
  denied agrees, and the report says the plugin rejects rather than drops.
* A cell **differs** when the observation is not the prediction.  Each difference is
  explained: which side, what npcore expected, what happened (connected, timed out,
  refused), and the ``npcore explain`` command that shows the rules deciding it.
* **Server not running**: a pod that could not connect to itself on a port (no policy
  can block that) has no working server there; the cells towards it are listed under
  that cause, not blamed on policies.
* **Not enforced**: when every observed cell is allowed while npcore predicts at least
  one denied cell, the cluster's network plugin does not enforce NetworkPolicy (Flannel
  alone, kind before v0.24, a policy controller that is not running): the comparison
  says so instead of blaming each cell.
* **Probe failed**: when no observed cell connected, not even a pod to itself (which
  npcore always expects), the probe servers were not running: the observation says
  nothing about policies, and the comparison refuses it (:class:`ProbeInputError`) with
  that explanation instead of listing every cell.
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
    rejected: frozenset[tuple[str, str]] = frozenset()

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
    rejected: bool = False

    @property
    def text(self) -> str:
        """The cell, what npcore expected, what happened, and the command that shows
        npcore's reasons."""
        if self.expected:
            what = "expected ALLOWED, refused" if self.rejected else "expected ALLOWED, timed out"
        else:
            what = "expected DENIED, connected"
        return (
            f"{self.protocol} {self.port}: {self.src} -> {self.dst}: {what} "
            f"(why npcore decides so: npcore explain FILES --from {self.src} --to {self.dst} "
            f"--port {self.port} --protocol {self.protocol})"
        )


_HINTS = {
    True: "npcore expects these ALLOWED; the cluster did not connect (timed out: dropped; "
    "refused: rejected, as kube-router and k3s reject blocked connections). Likely: another "
    "policy on the cluster blocks them, or the plugin enforces a rule differently (predict "
    "again with npcore's --cni set to your plugin).",
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
    #: Cells npcore expects denied that were refused rather than timed out.
    rejected_denied: int = 0
    #: ``(label, pod)`` pairs whose pod could not connect to itself: no server there.
    not_serving: tuple[tuple[str, str], ...] = ()

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
    if len(set(peers)) != len(peers):
        raise _fail(name, f"{where}.peers", "names a pod twice: list each pod once")
    for src in allowed:
        if src not in peers:
            raise _fail(
                name, f"{where}.allowed[{src!r}]", f"a row for {src!r}, which is not in peers"
            )
    table = _table(allowed, peers, name, where)
    rejected = _rejected(data.get("rejected", []), table, name, f"{where}.rejected")
    cni = data.get("cni")
    return MatrixDocument(
        port, protocol, tuple(peers), table, cni if isinstance(cni, str) else None, rejected
    )


def _table(
    allowed: dict[str, object], peers: list[str], name: str, where: str
) -> dict[str, dict[str, bool]]:
    for peer in peers:
        if peer not in allowed and not any(
            isinstance(row, dict) and peer in row for row in allowed.values()
        ):
            raise _fail(
                name,
                f"{where}.peers",
                f"names {peer!r}, but allowed has no row and no cell for it: "
                "every peer needs a row and a cell in every row",
            )
    table: dict[str, dict[str, bool]] = {}
    for src in peers:
        row = allowed.get(src)
        if row is None:
            raise _fail(name, f"{where}.allowed[{src!r}]", "missing row (did run.sh finish?)")
        if not isinstance(row, dict):
            raise _fail(name, f"{where}.allowed[{src!r}]", "must map each peer to true or false")
        for dst in row:
            if dst not in peers:
                raise _fail(
                    name,
                    f"{where}.allowed[{src!r}][{dst!r}]",
                    f"a cell for {dst!r}, which is not in peers",
                )
        for dst in peers:
            if dst not in row:
                raise _fail(
                    name,
                    f"{where}.allowed[{src!r}][{dst!r}]",
                    f"missing cell: the row of {src!r} needs true or false for every peer",
                )
            if not isinstance(row[dst], bool):
                raise _fail(
                    name,
                    f"{where}.allowed[{src!r}][{dst!r}]",
                    f"{row[dst]!r} is not true or false",
                )
        table[src] = {dst: row[dst] for dst in peers}
    return table


def _rejected(
    data: object, table: dict[str, dict[str, bool]], name: str, where: str
) -> frozenset[tuple[str, str]]:
    if not isinstance(data, list):
        raise _fail(name, where, "must be a list of [source, destination] pairs")
    pairs: set[tuple[str, str]] = set()
    for i, pair in enumerate(data):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(p, str) and p in table for p in pair)
        ):
            raise _fail(name, f"{where}[{i}]", f"{pair!r} is not a [source, destination] of peers")
        if table[pair[0]][pair[1]]:
            raise _fail(name, f"{where}[{i}]", f"{pair!r} is rejected but allowed says true")
        pairs.add((pair[0], pair[1]))
    return frozenset(pairs)


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
    *,
    observed_single: bool = False,
) -> Comparison:
    """Compare cell by cell (see the module docstring for the rules).  ``observed_single``:
    the observation was one document, not a list (it must then cover every port)."""
    by_target = {(d.port, d.protocol): d for d in observed}
    labels = ", ".join(d.label for d in expected)
    differences: list[Difference] = []
    not_serving: list[tuple[str, str]] = []
    cells = denied_expected = allowed_observed = rejected_denied = 0
    for exp in expected:
        obs = by_target.get((exp.port, exp.protocol))
        if obs is None and observed_single and len(expected) > 1:
            raise _fail(
                observed_name,
                "top level",
                f"one matrix document ({observed[0].label}), but the prediction has "
                f"{len(expected)} ports ({labels}): give the list of documents run.sh writes "
                "(observed.json), not one npcore matrix document",
            )
        if obs is None:
            raise _fail(
                observed_name,
                exp.label,
                f"not probed (the prediction has {labels}; the observation has "
                f"{', '.join(d.label for d in observed)}): run run.sh from the same npcore probe",
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
        not_serving += [(exp.label, p) for p in exp.peers if not obs.allowed[p][p]]
        for src in exp.peers:
            for dst in exp.peers:
                want, got = exp.allowed[src][dst], obs.allowed[src][dst]
                rejected = (src, dst) in obs.rejected
                cells += 1
                denied_expected += not want
                allowed_observed += got
                rejected_denied += rejected and not want
                if want != got:
                    differences.append(
                        Difference(exp.port, exp.protocol, src, dst, want, got, rejected)
                    )
    if cells and allowed_observed == 0:
        raise _fail(
            observed_name,
            "every cell",
            "nothing connected, not even a pod to itself, which no policy can block: the "
            "probe itself failed and says nothing about policies. The probe servers are not "
            "running: check the pods (kubectl get pods -A -o wide; the agnhost image must be "
            "pullable, kubectl logs POD -c CONTAINER), then run run.sh again",
        )
    not_enforced = bool(differences) and denied_expected > 0 and allowed_observed == cells
    cni = expected[0].cni if expected else None
    return Comparison(
        cells,
        tuple(differences),
        not_enforced,
        cni,
        rejected_denied,
        tuple(not_serving),
    )


def comparison_text(comparison: Comparison) -> str:
    """The report ``npcore probe compare`` prints: a verdict line, then every difference."""
    n = len(comparison.differences)
    rejects = (
        f"{comparison.rejected_denied} denied cell(s) were refused rather than timed out: "
        "this cluster's plugin rejects blocked connections (kube-router and k3s do) instead "
        "of dropping them; both are denied."
    )
    if comparison.agrees:
        verdict = f"AGREE: all {comparison.cells} cells as npcore predicted" + (
            f" (CNI {comparison.cni})." if comparison.cni else "."
        )
        return verdict + (f"\n{rejects}" if comparison.rejected_denied else "")
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
    if comparison.rejected_denied:
        lines.append(rejects)
    down = set(comparison.not_serving)
    dead = [d for d in comparison.differences if (f"{d.protocol} {d.port}", d.dst) in down]
    if dead:
        pods = sorted({f"{d.dst} ({d.protocol} {d.port})" for d in dead})
        lines.append(
            f"{len(dead)} cell(s): the server is not running on {', '.join(pods)}: the pod "
            "could not connect even to itself, which no policy can block. Not a policy "
            "question: check the pod and its container (kubectl describe pod, kubectl logs "
            "-c serve-PORT-PROTOCOL), then run run.sh again."
        )
        lines.extend(f"- {d.text}" for d in dead)
    for expected in (True, False):
        group = [d for d in comparison.differences if d.expected is expected and d not in dead]
        if group:
            lines.append(f"{len(group)} cell(s): {_HINTS[expected]}")
            lines.extend(f"- {d.text}" for d in group)
    return "\n".join(lines)
