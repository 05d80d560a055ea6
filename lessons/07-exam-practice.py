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
quiz.MultipleChoice(
    "According to this output, which connection does the api pod accept?",
    [
        "from pods labelled name=web-pod, on TCP 8080",
        "from any pod, on TCP 8080",
        "to pods labelled role=db, on TCP 3306",
    ],
    0,
    "'Allowing ingress traffic' lists the sources (From) and ports (To Port) let in.",
    hints=[
        "",
        "Look at the From line under 'Allowing ingress traffic'.",
        "That is what the api pod may reach (egress), not what it accepts.",
    ],
)

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
quiz.predict_connection(
    scenes.with_yaml(world, scenes.NAMESPACE_LABEL_BUG_YAML),
    "monitoring/prometheus",
    "prod/db",
    5432,
    question="The namespace monitoring has no label team=monitoring. "
    "Can Prometheus reach prod/db on TCP 5432?",
    explanation="The namespaceSelector matches no namespace, so the peer matches nothing.",
)

# %% [markdown]
# The policy's own namespace matters as much. A manifest without `metadata.namespace`
# lands in the namespace of your `kubectl` context (often `default`), where it selects
# nothing you meant to protect:

# %%
print(scenes.NO_NAMESPACE_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(world, scenes.NO_NAMESPACE_YAML),
    "dev/web",
    "prod/db",
    5432,
    question="This policy was applied with `kubectl apply -f` in the default namespace. "
    "Can dev/web reach prod/db?",
    explanation="The policy lives in default and selects app=db pods of default: none.",
)

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
quiz.predict_connection(
    ipblocked,
    "prod/web",
    "partner",
    443,
    question="Can prod/web reach the partner (198.51.100.7) on TCP 443?",
)

# %%
quiz.predict_connection(
    ipblocked,
    "prod/web",
    "metadata",
    443,
    question="Can prod/web reach the metadata service (169.254.169.254) on TCP 443?",
)

# %% [markdown]
# Look at the ports, though. The metadata service answers plain HTTP on **port 80** (on
# the big clouds alike), and this rule allows only TCP 443, so port 80 was never allowed:
# in this policy the `except` protects nothing. It starts to matter in a rule that allows
# port 80 or every port, such as "egress anywhere except the metadata service" (drill
# `cka-block-metadata`).

# %%
quiz.predict_connection(
    ipblocked,
    "prod/web",
    "metadata",
    80,
    question="Would prod/web reach the metadata service on TCP 80, even without the except?",
    explanation="The only egress rule allows TCP 443; port 80 matches no rule.",
)

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
quiz.predict_connection(
    scenes.with_yaml(shop, scenes.NAMED_PORT_YAML),
    "shop/api",
    "shop/db",
    3306,
    question="The db pod's container port 3306 is named mysql. "
    "Can the api pod reach it on TCP 3306 with this policy?",
)

# %% [markdown]
# Combining a named port with `endPort` is refused by the API server. The course's loader
# gives the same answer, with the file, line and field (this cell is meant to fail):

# %% tags=["raises-exception"]
scenes.policies_from_yaml(scenes.ENDPORT_NAMED_BUG_YAML, "db-range.yaml")

# %%
quiz.MultipleChoice(
    "Which ports entry allows TCP 32000 to 32768?",
    [
        "port: 32000, endPort: 32768",
        "port: 32000-32768",
        "port: high-ports, endPort: 32768",
    ],
    0,
    "A range is a numeric port plus endPort, both inclusive.",
    hints=["", "A port is a number or a name, never a range string.", "endPort needs a number."],
)

# %% [markdown]
# ## 5. One rule or two?
#
# Inside one rule, **any** `from` peer combines with **any** of its ports. The database
# should accept the web pods on 5432 and Prometheus on its metrics port 9187. Written as
# one rule, it lets each of them in on both ports:

# %%
print(scenes.MERGED_RULE_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(world, scenes.MERGED_RULE_YAML),
    "monitoring/prometheus",
    "prod/db",
    5432,
    question="With the merged rule, can Prometheus open a connection to Postgres (5432)?",
    explanation="Peers and ports of one rule combine freely: prometheus x 5432 matches.",
)

# %%
print(scenes.SPLIT_RULES_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(world, scenes.SPLIT_RULES_YAML),
    "monitoring/prometheus",
    "prod/db",
    5432,
    question="With two rules (one per peer and port), can Prometheus reach 5432?",
)

# %% [markdown]
# ## 6. Verifying on a real cluster
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
quiz.MultipleChoice(
    "You added db-policy. Which test proves it works?",
    [
        "ping db from the web pod",
        "nc -zv -w 1 from web to db:3306 times out AND the api pod still reaches db:3306",
        "kubectl get netpol shows db-policy",
    ],
    1,
    "Test both: the denied path fails, and the allowed path still works.",
    hints=[
        "ICMP is not what policies are about; ping may hang or pass either way.",
        "",
        "Listing shows the object exists, not that it is enforced or correct.",
    ],
)

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
