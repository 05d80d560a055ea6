# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Exam practice: reading, targeting and verifying policies
#
# **Time:** 40 minutes (teaching 18, self-checks 22)
#
# **Questions**
# - How do you read a policy quickly under time pressure?
# - How do you target a namespace, an outside address range, or a named port?
# - How do you prove on a real cluster that a policy does what you meant?
#
# **Objectives**
# - Read the output of `kubectl describe networkpolicy`.
# - Select namespaces by the `kubernetes.io/metadata.name` label.
# - Use `ipBlock` with `except`, named ports and `endPort`, and recognise their rules.
# - Keep each (peer, port) pair in its own rule when they must not mix.
# - Verify allowed **and** denied connections with a short timeout (`nc -zv -w 1`, or
#   `curl -m 1` against an HTTP server), and read a timeout as "blocked".
#
# Terms are recalled in the [glossary](../docs/glossary.md).

# %%
# %matplotlib inline
from lessonkit import quiz, scenes
from npcore.describe import describe_policy

shop = scenes.three_tier()
world = scenes.multi_namespace()

# %% [markdown]
# ## 1. Reading kubectl describe networkpolicy
#
# When in doubt, `kubectl describe networkpolicy` prints what Kubernetes understood:
# which pods are selected, and what is allowed per direction. The text below is what it
# prints for the lockdown policy of the api pod (lesson 05), rendered by the course's
# model line for line:

# %%
api = next(p for p in scenes.lockdown_policies() if p.name == "api")
print(describe_policy(api))

# %%
quiz.show("07-read-describe")

# %% [markdown]
# ## 2. Namespaces: select them by kubernetes.io/metadata.name
#
# A `namespaceSelector` (lesson 04) matches namespaces by their **labels**, never by their
# names. Custom labels (`team: monitoring`) only work if someone put them on the namespace.
# Every namespace carries `kubernetes.io/metadata.name: <its name>`, set by the API
# server, so use that to target a namespace by name.

# %%
print(scenes.NAMESPACE_LABEL_BUG_YAML)

# %%
quiz.show("07-namespace-label-missing")

# %% [markdown]
# The policy's own namespace matters as much. A manifest without `metadata.namespace`
# lands in the namespace of your `kubectl` context (often `default`), where it selects
# nothing you meant to protect:

# %%
print(scenes.NO_NAMESPACE_YAML)

# %%
quiz.show("07-no-namespace")

# %% [markdown]
# ## 3. Outside addresses: ipBlock with except
#
# Pods and namespaces are chosen by labels; addresses outside the cluster by `ipBlock`,
# a CIDR with optional `except` ranges. Each `except` must be a **strict subset** of the
# `cidr`: inside it and smaller (the API server refuses `except: [10.0.0.0/8]` under
# `cidr: 10.0.0.0/8`). The Kubernetes documentation means `ipBlock` for addresses outside
# the cluster; plugins differ for pod addresses (lesson 06: Calico matches them, Cilium
# never does).
#
# Here the web pods may use HTTPS anywhere except the cloud metadata service. (On a real
# cluster, add the DNS rule of lesson 05 too.)

# %%
print(scenes.IPBLOCK_EGRESS_YAML)
ipblocked = scenes.with_yaml(world, scenes.IPBLOCK_EGRESS_YAML)
print(scenes.pod_table(ipblocked))

# %%
quiz.show("07-ipblock-partner")

# %%
quiz.show("07-ipblock-metadata")

# %% [markdown]
# Look at the ports, though. The metadata service answers plain HTTP on **port 80** (on
# the big clouds alike), and this rule allows only TCP 443, so port 80 was never allowed:
# in this policy the `except` protects nothing. It starts to matter in a rule that allows
# port 80 or every port, such as "egress anywhere except the metadata service" (drill
# `cka-block-metadata`).

# %%
quiz.show("07-metadata-port-80")

# %% [markdown]
# `ipBlock` also serves addresses on the node. With **NodeLocal DNSCache**, every pod
# sends its DNS queries to a cache on its own node, at a link-local address
# (169.254.20.10 by default). The cache runs with `hostNetwork`, so no label selects it,
# and the "best" DNS rule of lesson 05 (to the kube-dns pods only) then breaks every
# lookup. Add a peer `ipBlock: {cidr: 169.254.20.10/32}` on UDP and TCP 53 next to the
# kube-dns peer (drill `cka-nodelocal-dns`).

# %% [markdown]
# ## 4. Named ports and endPort
#
# A policy port may be a **name** (`port: mysql`): it is looked up among the destination
# pod's container ports. A name that the pod does not define matches nothing, silently.
# A **range** uses `port` plus `endPort` (inclusive); `endPort` needs a numeric `port`. A
# plugin without `endPort` support enforces only `port` (lesson 06). And whatever the
# form, a port without `protocol` is **TCP**: a UDP service needs `protocol: UDP`.

# %%
print(scenes.NAMED_PORT_YAML)

# %%
quiz.show("07-named-port")

# %% [markdown]
# Combining a named port with `endPort` is refused by the API server. The course's loader
# gives the same answer, with the file, line and field (this cell is meant to fail):

# %% tags=["raises-exception"]
scenes.policies_from_yaml(scenes.ENDPORT_NAMED_BUG_YAML, "db-range.yaml")

# %%
quiz.show("07-port-range")

# %% [markdown]
# ## 5. One rule or two?
#
# Inside one rule, **any** `from` peer combines with **any** of its ports. The database
# should accept the web pods on 5432 and Prometheus on its metrics port 9187. Written as
# one rule, it lets each of them in on both ports:

# %%
print(scenes.MERGED_RULE_YAML)

# %%
quiz.show("07-merged-rule")

# %%
print(scenes.SPLIT_RULES_YAML)

# %%
quiz.show("07-split-rules")

# %% [markdown]
# ## 6. Write it: egress with ipBlock and except
#
# The api pod of another shop talks to a partner's network, one of whose hosts is being
# retired. Write its egress policy, with DNS. The truth table opens on TCP 443, where the
# retired host must be denied. **Check** grades it as `npgrade ipblock-except` would.

# %%
from autograder.grade import grade  # the course's grader: the same verdict as `npgrade`

quiz.challenge("07-write-ipblock-except", grade)

# %% [markdown]
# ## 7. Verifying on a real cluster
#
# In the exam (and in production) a policy is only done when you have **tested** it:
# one connection that must work and one that must fail. Use TCP tools with a short
# timeout; do not use `ping` (ICMP is not covered by NetworkPolicy and behaves
# differently from plugin to plugin).
#
# Pick the tool for the server, and read its failure correctly:
#
# - A connection blocked by a policy usually **times out**: the packets are dropped, so
#   the client waits. "Connection refused" means the packet arrived and nothing listens.
#   Always set a timeout (`nc -w 1`, `curl -m 1`, `timeout 1`).
# - `curl` speaks HTTP. Against MySQL's 3306 it fails **even with no policy at all**,
#   because the server's greeting is not HTTP, so "curl failed" proves nothing there. For
#   a non-HTTP port, test the TCP connection: `nc -zv -w 1 db 3306`, or bash's
#   `timeout 1 bash -c '</dev/tcp/db/3306'`.
#
# ```bash
# kubectl -n shop exec web -- curl -s -m 1 http://api           # HTTP, 1 s timeout
# kubectl -n shop run probe --rm -it --image=busybox:1.36 --labels=name=web-pod -- \
#     nc -zv -w 1 db 3306                                       # TCP port check
# ```

# %%
quiz.show("07-prove-db-policy")

# %% [markdown]
# ## Key points
#
# - `kubectl describe networkpolicy` shows what is selected and allowed per direction.
# - Target namespaces with `kubernetes.io/metadata.name`; custom labels must exist; set
#   `metadata.namespace` so the policy lands where its pods are.
# - `ipBlock` selects outside addresses; each `except` is a strict subset of its CIDR.
#   Check the ports too: an `except` only matters for ports the rule allows.
# - With NodeLocal DNSCache, allow DNS to its node-local address as well as to kube-dns.
# - Named ports resolve on the destination pod; `endPort` needs a numeric `port`; a port
#   without `protocol` is TCP.
# - Peers and ports of one rule combine freely; split rules to keep pairs apart.
# - Verify with `nc -zv -w 1` (any TCP port) or `curl -m 1` (HTTP only): one allowed and
#   one denied connection; a blocked connection usually shows as a timeout.

# %% [markdown]
# ## Try it on a real cluster
#
# > ```bash
# > kubectl get ns --show-labels                       # kubernetes.io/metadata.name=...
# > kubectl -n shop get pods --show-labels
# > kubectl -n shop describe networkpolicy db-policy
# > kubectl -n shop exec web -- curl -s -m 1 http://api          # must work
# > kubectl -n shop exec web -- timeout 1 bash -c '</dev/tcp/db/3306' \
# >     && echo open || echo blocked                           # must say blocked
# > kubectl -n shop run probe --rm -it --image=busybox:1.36 \
# >     --labels=name=api-pod -- nc -zv -w 1 db 3306             # api's labels: open
# > ```

# %% [markdown]
# ## Practise: graded exercises and drills
#
# The autograder grades these by what your answer *does* (run in a terminal, in the
# repository; `.venv/bin/npgrade list` shows every exercise, its points and its time).
# Each task is in `autograder/exercises/ID.yaml` (`task:`), and `.venv/bin/npgrade show ID`
# prints its cluster as `kubectl` would; write your answer in a file and grade it with
# `.venv/bin/npgrade ID answer.yaml`. Drills are timed, as in the exam:
# `.venv/bin/npgrade drill ID`.
#
# - `least-permissive`, `named-ports-endport`, `ipblock-except`.
# - Drills, from easy to hard: `cka-block-metadata`, `cka-endport-range`,
#   `cka-named-port-scrape`, `cka-nodelocal-dns`, `cka-planner-egress`.
