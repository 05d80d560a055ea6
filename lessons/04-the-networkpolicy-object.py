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
# # 04 · The NetworkPolicy object
#
# **Time:** 40 minutes (teaching 21, self-checks 19)
#
# **Questions**
# - What is a NetworkPolicy, and how is it attached to pods?
# - What happens to a pod's traffic once a policy selects it?
# - How do you write an ingress rule with a source and a port, and an egress rule?
# - How do you choose pods of other namespaces, and namespaces by a set of values?
#
# **Objectives**
# - Read a NetworkPolicy manifest: `apiVersion`, `kind`, `metadata.namespace`, `spec`.
# - Link a policy to pods with labels and `spec.podSelector`.
# - Explain isolation: once selected, a pod accepts only the traffic the rules allow, for
#   the directions in `policyTypes`, and no other pod is affected.
# - Write an ingress rule with `from` (a pod selector) and `ports`, and an egress rule with
#   `to` and `ports`.
# - Choose pods of other namespaces with `namespaceSelector` (by the
#   `kubernetes.io/metadata.name` label) and select by sets of values with
#   `matchExpressions`.
#
# Words you meet here are explained in the course's [glossary](../docs/glossary.md).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from lessonkit import diagrams, quiz, scenes

shop = scenes.three_tier()
flows = scenes.three_tier_flows()

# %% [markdown]
# ## 1. A namespaced object
#
# A NetworkPolicy is one more Kubernetes object, like a Pod or a Service. It lives in a
# **namespace** (`metadata.namespace`) and applies only to pods of that namespace; its
# rules may still admit or reach pods of other namespaces and addresses outside the
# cluster (sections 6 and 7). Its `apiVersion` is `networking.k8s.io/v1` and its `kind`
# is `NetworkPolicy`. Under
# `spec` come the `podSelector` (the pods the policy applies to), then `policyTypes` and
# the rules. Here is the policy that protects the shop's database:

# %%
print(scenes.DB_POLICY_YAML)

# %%
quiz.MultipleChoice(
    "db-policy has `namespace: shop`. Which pods can it select?",
    ["pods of any namespace", "pods of the namespace shop", "pods of kube-system"],
    1,
    "A NetworkPolicy only selects pods in its own namespace.",
)

# %% [markdown]
# ## 2. Linking a policy to pods: labels and podSelector
#
# A policy is linked to one or more pods by **labels**. Label the pods, then put the same
# labels under `spec.podSelector.matchLabels`. The db pod carries `role=db`, and
# db-policy selects `role: db`, so db-policy applies to the db pod, and to every other pod
# of `shop` that we ever label `role=db`.

# %%
print(scenes.pod_table(shop))

# %%
relabelled = scenes.relabel(
    shop.with_policies([scenes.db_policy()]), "shop/db", {"role": "database"}
)
quiz.predict_connection(
    relabelled,
    "shop/web",
    "shop/db",
    3306,
    question="Someone relabels the db pod `role=database`. db-policy is unchanged. "
    "Can the web pod now reach the database?",
    explanation="The selector `role: db` no longer matches, so no policy applies to the pod.",
)

# %% [markdown]
# ## 3. Once selected, the pod is isolated in the policy's directions
#
# While no policy selects a pod, it accepts everything and may open any connection. As
# soon as a policy selects it, the pod is **isolated** for the directions the policy
# lists in `policyTypes` (section 4): in those directions, traffic not allowed by a rule
# is blocked. db-policy lists `Ingress` only, so the db pod no longer accepts just anyone,
# while its own outgoing connections are untouched. Isolation only applies to the
# **selected** pods: the web and API pods are unaffected by db-policy.

# %%
protected = scenes.three_tier(with_db_policy=True)
quiz.PredictFlows(protected, flows, question="db-policy is applied. Predict each connection.")

# %%
fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
diagram = diagrams.draw_flows(ax, protected, flows, title="db-policy")

# %%
quiz.predict_connection(
    protected,
    "shop/web",
    "shop/db",
    3306,
    question="With db-policy, can the web pod reach the database on TCP 3306?",
)

# %%
quiz.predict_connection(
    protected,
    "shop/db",
    "shop/web",
    80,
    question="With db-policy (policyTypes: Ingress), can the db pod open a connection to web?",
    explanation="db-policy isolates the db pod for ingress only, and web is not selected.",
)

# %% [markdown]
# ## 4. policyTypes: which directions
#
# `spec.policyTypes` lists the directions the policy isolates: `Ingress`, `Egress` or
# both. A selected pod is locked down only in those directions. If you leave the field
# out, Kubernetes fills it in: `Ingress` always, plus `Egress` when the policy has
# egress rules. A policy meant to lock down egress should therefore say so.

# %%
quiz.MultipleChoice(
    "A policy selects the api pod and has no rules at all, and no policyTypes. What does it do?",
    [
        "nothing",
        "blocks all ingress to the api pod",
        "blocks all egress from the api pod",
        "blocks both directions",
    ],
    1,
    "policyTypes defaults to [Ingress] when there are no egress rules; with no ingress "
    "rules, nothing may come in.",
    hints=[
        "Selecting a pod isolates it, even with no rules.",
        "",
        "Egress is isolated only if policyTypes says so or there are egress rules.",
        "Egress is isolated only if policyTypes says so or there are egress rules.",
    ],
)

# %% [markdown]
# ## 5. Ingress rules: from and ports
#
# Under `spec.ingress`, each rule says who may come in and on which port:
#
# - `from` picks the sending pods, again by labels (`podSelector`);
# - `ports` lists the port and protocol the traffic goes **to**: the receiving pod's
#   container port (3306 for the database), not a port of the sending pod. Without a
#   `protocol`, a port means **TCP**: write `protocol: UDP` for a UDP port.
#
# A connection is allowed when it matches a `from` entry **and** a `ports` entry of the
# same rule.

# %%
quiz.MultipleChoice(
    "In db-policy, what is `port: 3306`?",
    [
        "the port the api pod sends from",
        "the port the db pod listens on, where the connection arrives",
        "the port of the db Service",
    ],
    1,
    "Policy ports are the destination pod's ports, where the traffic arrives.",
    hints=[
        "Clients use random source ports; policies never match them.",
        "",
        "Policies see the pod's port, after the Service has forwarded the traffic.",
    ],
)

# %%
quiz.predict_connection(
    protected,
    "shop/api",
    "shop/db",
    22,
    question="With db-policy, can the api pod reach the db pod on TCP 22?",
    explanation="The api pod matches `from`, but 22 is not in `ports`.",
)

# %% [markdown]
# ## 6. Egress rules: to and ports
#
# Outgoing traffic has rules of the same shape, under `spec.egress`, with `to` in place
# of `from`:
#
# - `to` picks the pods the selected pod may **connect to**;
# - `ports` lists the port and protocol **at that destination**.
#
# A policy that lists `Egress` in `policyTypes` isolates its pods for outgoing traffic:
# they may then open only the connections an egress rule allows. Here is the shop's
# `api` policy from the lockdown of lesson 05. It isolates the api pod both ways; its
# egress rule lets it reach the db pods on TCP 3306, and nothing else.

# %%
api_policy = scenes.yaml_by_policy(scenes.LOCKDOWN_YAML)["api"]
print(api_policy)
api_only = scenes.with_yaml(shop, api_policy)

# %%
quiz.predict_connection(
    api_only,
    "shop/api",
    "shop/db",
    3306,
    question="With only this policy applied, can the api pod open a connection to db on 3306?",
    explanation="The egress rule allows TCP 3306 to pods labelled role=db.",
)

# %%
quiz.predict_connection(
    api_only,
    "shop/api",
    "shop/web",
    80,
    question="And can the api pod open a connection to the web pod on TCP 80?",
    explanation="The api pod is isolated for egress; no egress rule allows web on 80.",
)

# %% [markdown]
# ## 7. Other namespaces: namespaceSelector
#
# A `podSelector` in `from` or `to` only looks in the **policy's own namespace**. To
# admit pods of other namespaces, a peer uses a `namespaceSelector`: it selects
# namespaces **by their labels**. Every namespace carries the label
# `kubernetes.io/metadata.name` with its own name, set by the API server, so it is the
# safe way to name one namespace. (Addresses outside the cluster are chosen with
# `ipBlock`, lesson 07.)
#
# In this world `prod` runs `web` and `db`, `dev` runs another `web`, and `monitoring`
# runs Prometheus. The policy below lets every pod of `monitoring` reach `prod/db` on
# TCP 5432:

# %%
world = scenes.multi_namespace()
print(scenes.pod_table(world))
from_monitoring = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-monitoring, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: monitoring}
    ports: [{protocol: TCP, port: 5432}]
"""

# %%
quiz.predict_connection(
    scenes.with_yaml(world, from_monitoring),
    "dev/web",
    "prod/db",
    5432,
    question="With db-from-monitoring, can dev/web reach prod/db on TCP 5432?",
    explanation="The only peer selects the namespace monitoring; dev is not it.",
)

# %% [markdown]
# ## 8. Sets of values: matchExpressions
#
# `matchLabels` asks for exact labels. `matchExpressions` (in a `podSelector` or a
# `namespaceSelector`) tests a label against a set, with an `operator`:
#
# | operator | matches when the label... |
# |----------|---------------------------|
# | `In` | exists and its value is one of `values` |
# | `NotIn` | is **missing**, or its value is none of `values` |
# | `Exists` | exists, whatever its value (no `values`) |
# | `DoesNotExist` | is missing (no `values`) |
#
# Several expressions, and `matchLabels` next to them, must all hold. Watch `NotIn`: it
# also matches objects that lack the label. In our world `prod` has `env=prod`, `dev` has
# `env=dev`, and `monitoring` has no `env` label at all:

# %%
not_dev = from_monitoring.replace(
    "matchLabels: {kubernetes.io/metadata.name: monitoring}",
    "matchExpressions: [{key: env, operator: NotIn, values: [dev]}]",
)
print(not_dev)

# %%
quiz.predict_connection(
    scenes.with_yaml(world, not_dev),
    "monitoring/prometheus",
    "prod/db",
    5432,
    question="With `env NotIn [dev]`, can Prometheus (namespace monitoring, no env label) "
    "reach prod/db on TCP 5432?",
    explanation="NotIn matches a namespace without the label, so monitoring is selected.",
)

# %% [markdown]
# ## Key points
#
# - A NetworkPolicy (`networking.k8s.io/v1`, kind `NetworkPolicy`) is a namespaced
#   object; it only selects pods of its own namespace, while its rules may admit or reach
#   other namespaces and outside addresses.
# - It is linked to pods by labels: `spec.podSelector` selects the pods it applies to.
# - A selected pod is isolated for the directions in `policyTypes`: in those directions
#   only traffic allowed by a rule gets through. Pods no policy selects are unaffected.
# - An ingress rule allows traffic matching `from` (who sends) and `ports` (the port it
#   arrives on); an egress rule matches `to` (the destination) and `ports` (its port).
#   A port without `protocol` is TCP.
# - `namespaceSelector` chooses namespaces by label (`kubernetes.io/metadata.name` names
#   one); `matchExpressions` tests labels with `In`, `NotIn`, `Exists`, `DoesNotExist`,
#   and `NotIn` also matches a missing label.

# %% [markdown]
# ## Try it on a real cluster
#
# > Save the policy above as `db-policy.yaml`, then:
# >
# > ```bash
# > kubectl apply -f db-policy.yaml
# > kubectl -n shop get networkpolicy
# > kubectl -n shop get pods -l role=db           # the pods db-policy selects
# > kubectl -n shop exec web -- timeout 1 bash -c '</dev/tcp/db/3306' \
# >     && echo open || echo blocked              # expect: blocked
# > kubectl -n shop exec api -- timeout 1 bash -c '</dev/tcp/db/3306' \
# >     && echo open || echo blocked              # expect: open
# > ```
# >
# > If web still reaches db, your cluster's network plugin may not enforce policies:
# > lesson 06 explains why and how to check.
