"""metadata.annotations of a NetworkPolicy: kept by the loader, validated as the API server
does (``ValidateAnnotations``), and printed by ``describe`` as kubectl does.

Rules (apimachinery ``ValidateAnnotations``):

* A1: each key, lower-cased, is a qualified name: an optional DNS-subdomain prefix and
  ``/``, then a name of 1 to 63 characters, alphanumeric at both ends, ``-_.`` inside.
* A2: values are free text (any string, empty included).
* A3: keys and values together take at most 262144 bytes (256 KiB), counted in UTF-8;
  more is ``Too long: may not be more than 262144 bytes`` on ``metadata.annotations``.
* A4: the loader keeps annotations (sorted by key) and reports a bad key at its line.
* A5: ``describe`` prints them under ``Annotations:`` as kubectl does (the
  last-applied-configuration annotation is never shown).
"""

from __future__ import annotations

import pytest

from npcore.describe import describe_policy
from npcore.errors import NpcoreError
from npcore.load import parse_policies
from npcore.model import NetworkPolicy
from npcore.validate import TOTAL_ANNOTATION_SIZE_LIMIT, validate_annotations

PATH = "metadata.annotations"

VALID = [
    pytest.param({"owner": "team-db"}, id="A1: plain name"),
    pytest.param({"example.com/owner": "x"}, id="A1: DNS-subdomain prefix"),
    pytest.param({"Example.COM/Owner": "x"}, id="A1: checked lower-cased, so capitals pass"),
    pytest.param({"a" * 63: "x"}, id="A1: name of 63 characters"),
    pytest.param({"kubectl.kubernetes.io/last-applied-configuration": "{}"}, id="A1: kubectl's"),
    pytest.param({"note": ""}, id="A2: empty value"),
    pytest.param({"note": "free text: spaces, ünïcode, {json}\nand lines"}, id="A2: free text"),
    pytest.param(
        {"k": "v" * (TOTAL_ANNOTATION_SIZE_LIMIT - 1)}, id="A3: exactly 262144 bytes with the key"
    ),
]

INVALID = [
    pytest.param({"bad key": "x"}, "name part must consist of alphanumeric", id="A1: space"),
    pytest.param({"-owner": "x"}, "name part must consist of alphanumeric", id="A1: leading dash"),
    pytest.param({"a" * 64: "x"}, "name part must be no more than 63 characters", id="A1: 64"),
    pytest.param({"/owner": "x"}, "prefix part must be non-empty", id="A1: empty prefix"),
    pytest.param({"example.com/": "x"}, "name part must be non-empty", id="A1: empty name"),
    pytest.param({"ex_ample.com/o": "x"}, "prefix part a lowercase RFC 1123", id="A1: bad prefix"),
    pytest.param({"a/b/c": "x"}, "a qualified name must consist of", id="A1: two slashes"),
]


@pytest.mark.parametrize("annotations", VALID)
def test_valid_annotations(annotations: dict[str, str]) -> None:
    assert validate_annotations(annotations.items(), PATH) == []


@pytest.mark.parametrize(("annotations", "message"), INVALID)
def test_invalid_annotation_keys(annotations: dict[str, str], message: str) -> None:
    errors = validate_annotations(annotations.items(), PATH)
    assert errors, annotations
    text = str(errors[0])
    assert text.startswith(f"{PATH}: Invalid value: ")
    assert message in text


def test_total_size_counts_utf8_bytes() -> None:
    # "é" is 2 bytes: 1 + 2 * 131072 = 262145 > 262144
    (error,) = validate_annotations([("k", "é" * (TOTAL_ANNOTATION_SIZE_LIMIT // 2))], PATH)
    assert str(error) == f"{PATH}: Too long: may not be more than 262144 bytes"


MANIFEST = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: shop
  annotations:
    team: databases
    example.com/ticket: "OPS-17"
{extra}spec:
  podSelector: {{}}
"""


def test_loader_keeps_annotations_sorted() -> None:
    (policy,) = parse_policies(MANIFEST.format(extra=""), "db.yaml")
    assert policy.annotations == (("example.com/ticket", "OPS-17"), ("team", "databases"))


def test_loader_reports_a_bad_key_at_its_line() -> None:
    text = MANIFEST.format(extra="").replace("    team:", "    bad key:")
    with pytest.raises(NpcoreError) as info:
        parse_policies(text, "db.yaml")
    assert str(info.value).startswith('db.yaml:7:5: metadata.annotations: Invalid value: "bad key"')


def test_describe_prints_the_policys_annotations() -> None:
    (policy,) = parse_policies(MANIFEST.format(extra=""), "db.yaml")
    text = describe_policy(policy)
    assert "Annotations:  example.com/ticket: OPS-17\n              team: databases\n" in text


def test_describe_hides_last_applied_and_shows_none() -> None:
    last = "kubectl.kubernetes.io/last-applied-configuration"
    policy = NetworkPolicy("db", "shop", annotations=((last, '{"kind":"NetworkPolicy"}'),))
    assert "Annotations:  <none>\n" in describe_policy(policy)
