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
# # 05 · Locking down the three-tier application
#
# **Time:** 40 minutes (teaching 17, self-checks 23)
#
# **Questions**
# - How do we let only the API server reach the database?
# - How do we lock down the whole application, egress included, without breaking it?
# - Which small mistakes silently open or close the wrong paths?
#
# **Objectives**
# - Write the policy that admits only the api pod to the database on TCP 3306.
# - Lock down every pod of a namespace with a default deny, then allow the five rules
#   and DNS (UDP and TCP 53 to kube-dns).
# - Explain that policies add up: there are no deny rules, and order does not matter.
# - Spot the classic mistakes: AND vs OR of selectors, the namespace scope of
#   `podSelector`, empty selectors, and Service ports used instead of container ports.
#
# This lesson builds on lesson 04's egress rules and `namespaceSelector`; the
# [glossary](../docs/glossary.md) recalls every term.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from lessonkit import diagrams, quiz, scenes

shop = scenes.three_tier()
flows = scenes.three_tier_flows()

# %% [markdown]
# ## 1. The database accepts only the API server
#
# db-policy (lesson 04) selects the db pod (`role: db`), isolates it for ingress, and
# allows one thing in: pods labelled `name: api-pod`, on TCP 3306.

# %%
print(scenes.DB_POLICY_YAML)

# %%
protected = scenes.with_yaml(shop, scenes.DB_POLICY_YAML)
fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
diagram = diagrams.draw_flows(ax, protected, flows, title="db-policy")
print(diagram.text())

# %%
quiz.MultipleChoice(
    "A second API pod is started with the label name=api-pod. Can it reach the database?",
    ["yes, on TCP 3306", "no, db-policy names one pod", "only after db-policy is re-applied"],
    0,
    "Policies select by labels, not by pod names: every pod labelled name=api-pod in shop "
    "matches, now and later.",
)

# %% [markdown]
# ## 2. Locking down the whole application
#
# To control **every** connection we start from a *default deny*: a policy whose
# `podSelector: {}` selects every pod of the namespace, with both policy types and no
# rules. Then one policy per component adds back exactly the five rules of lesson 02,
# and `allow-dns` lets every pod look names up (section 4). The policies are printed
# below the diagram; predict first.

# %%
print(scenes.DEFAULT_DENY_YAML)

# %%
locked = scenes.with_yaml(scenes.three_tier(with_dns=True), scenes.LOCKDOWN_YAML)
quiz.PredictFlows(locked, scenes.three_tier_flows(with_dns=True), question="Predict each flow.")

# %%
fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
diagram = diagrams.draw_flows(
    ax, locked, scenes.three_tier_flows(with_dns=True), title="The shop, locked down"
)

# %%
print(scenes.LOCKDOWN_YAML)

# %%
quiz.which_flow_breaks(
    scenes.three_tier(lockdown=True, without="web-egress"),
    scenes.three_tier_flows()[:3],
    question="Remove the egress rule from the `web` policy. Which step fails?",
)

# %% [markdown]
# ## 3. Policies add up; nothing denies
#
# Several policies may select the same pod. For each direction, the pod then accepts the
# **union** of what all of them allow. There is no "deny" rule and the order of policies
# does not matter: no policy can take back what another allows. To stop a connection,
# remove or narrow the rule that allows it.
#
# Below, someone adds `reports-to-db`, which lets the web pods read the database, next to
# db-policy:

# %%
print(scenes.EXTRA_DB_ACCESS_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(protected, scenes.EXTRA_DB_ACCESS_YAML),
    "shop/web",
    "shop/db",
    3306,
    question="db-policy admits only api pods; reports-to-db admits web pods. "
    "Can the web pod reach the database?",
    explanation="The db pod accepts what either policy allows.",
)

# %%
quiz.MultipleChoice(
    "The shop is locked down and web -> api must now be stopped. What do you do?",
    [
        "add a policy that denies web -> api",
        "remove the rules that allow it (web's egress to api, api's ingress from web)",
        "apply a deny policy before the others",
    ],
    1,
    "NetworkPolicies only allow; to stop traffic, take away the rule that allows it.",
    hints=[
        "A NetworkPolicy cannot deny: it can only add allowed traffic.",
        "",
        "Order does not matter: policies are a union.",
    ],
)

# %% [markdown]
# ## 4. Do not forget DNS
#
# Once egress is locked down, a pod cannot even look up a name: `http://api` needs a DNS
# query to kube-dns in `kube-system` first. Allow it explicitly, on **UDP 53 and TCP
# 53** (DNS falls back to TCP for large answers), and only **to the kube-dns pods**, not
# to any host on port 53. The peer combines a `namespaceSelector` for `kube-system` with a
# `podSelector` for `k8s-app: kube-dns` in one entry (section 5 explains why one entry).
# One caveat: on a cluster with NodeLocal DNSCache, pods ask a cache on their own node,
# which no label selects; lesson 07 shows the rule that adds.

# %%
quiz.predict_connection(
    scenes.three_tier(lockdown=True, without="dns"),
    "shop/web",
    "kube-system/coredns",
    53,
    "UDP",
    question="Lockdown without the allow-dns policy: can the web pod query kube-dns on UDP 53?",
    explanation="default-deny isolates every shop pod for egress, and nothing allows DNS.",
)

# %%
quiz.MultipleChoice(
    "Which egress rule allows DNS best?",
    [
        "ports: [UDP 53], no `to`",
        "to: kube-dns pods in kube-system; ports: UDP 53 and TCP 53",
        "to: kube-dns pods in kube-system; ports: UDP 53",
    ],
    1,
    "Both protocols, and only to the cluster's DNS pods.",
    hints=[
        "Without `to`, the pod may reach port 53 of any host, and TCP is missing.",
        "",
        "DNS also uses TCP (large answers, some resolvers); lookups then fail at random.",
    ],
)

# %% [markdown]
# ## 5. Mistake: AND vs OR in `from`
#
# In `from` (and `to`), **each dash starts a new peer**, and peers are ORed. Two keys in
# the *same* entry are ANDed: a `namespaceSelector` (lesson 04) next to a `podSelector`
# means "these pods, in those namespaces". One dash too many turns "api pods in shop" into "any pod
# of shop, or api pods":

# %%
print(scenes.DB_POLICY_OR_BUG_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(shop, scenes.DB_POLICY_OR_BUG_YAML),
    "shop/web",
    "shop/db",
    3306,
    question="With this policy (two dashes), can the web pod reach the database?",
    explanation="`- namespaceSelector` alone matches every pod of shop, web included.",
)

# %%
print(scenes.DB_POLICY_AND_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(shop, scenes.DB_POLICY_AND_YAML),
    "shop/web",
    "shop/db",
    3306,
    question="With this policy (one dash, both selectors), can the web pod reach the database?",
    explanation="One entry with both selectors: a pod of shop AND labelled name=api-pod.",
)

# %% [markdown]
# ## 6. Mistake: podSelector only looks in the policy's namespace
#
# A `podSelector` in `from` matches pods **of the policy's own namespace** only. Here
# Prometheus, in namespace `monitoring`, must reach the database in `prod`:

# %%
world = scenes.multi_namespace()
print(scenes.pod_table(world))
print(scenes.PROMETHEUS_SCOPE_BUG_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(world, scenes.PROMETHEUS_SCOPE_BUG_YAML),
    "monitoring/prometheus",
    "prod/db",
    5432,
    question="Can Prometheus reach prod/db on TCP 5432 with this policy?",
    explanation="`podSelector: app=prometheus` looks for such pods in prod, and finds none.",
)

# %%
print(scenes.PROMETHEUS_FIXED_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(world, scenes.PROMETHEUS_FIXED_YAML),
    "monitoring/prometheus",
    "prod/db",
    5432,
    question="And with the namespaceSelector added to the same entry?",
)

# %% [markdown]
# ## 7. Mistake: empty selectors do not mean "nothing"
#
# Empty things in a policy have precise meanings:
#
# | You write | It means |
# |-----------|----------|
# | `spec.podSelector: {}` | the policy applies to **every** pod of its namespace |
# | no `ingress` key (with Ingress in policyTypes) | nothing may come in |
# | `ingress: [{}]` (one empty rule) | everything may come in |
# | `from: [podSelector: {}]` | every pod of the **policy's** namespace |
# | `from: [namespaceSelector: {}]` | every pod of **every** namespace (no outside IPs) |

# %%
quiz.MultipleChoice(
    "A policy in shop has `podSelector: {}` and `policyTypes: [Ingress]`, "
    "with `ingress: [{}]`. What does it do?",
    [
        "blocks all ingress to every pod of shop",
        "allows all ingress to every pod of shop",
        "selects no pod, so nothing",
    ],
    1,
    "`{}` selects every pod, and one empty rule matches every source and port.",
    hints=[
        "That would be no ingress rules at all; here there is one empty rule.",
        "",
        "An empty selector selects everything.",
    ],
)

# %%
quiz.MultipleChoice(
    "`from: [namespaceSelector: {}]` lets in...",
    [
        "every pod of the policy's namespace",
        "every pod of every namespace, and nothing from outside the cluster",
        "everything, including the internet",
    ],
    1,
    "An empty namespaceSelector selects all namespaces; outside addresses need ipBlock.",
)

# %% [markdown]
# ## 8. Mistake: the Service port is not the pod port
#
# Policies act on traffic **after** the Service has forwarded it, so ports in a policy
# are the **container ports** of the destination pod. The api Service listens on 80 and
# forwards to 8080: a policy that allows port 80 on the api pod allows nothing useful.

# %%
print(scenes.SERVICE_PORT_BUG_YAML)

# %%
quiz.predict_connection(
    scenes.with_yaml(shop, scenes.SERVICE_PORT_BUG_YAML),
    "shop/web",
    "shop/api",
    8080,
    question="With this policy, does the web pod's call to http://api (Service port 80, "
    "pod port 8080) get through?",
    explanation="The connection arrives on 8080; the policy only allows 80.",
)

# %% [markdown]
# ## Key points
#
# - db-policy admits only pods labelled `name: api-pod` to the database, on TCP 3306.
# - A default deny (`podSelector: {}`, both policy types, no rules) plus one policy per
#   component locks the whole application down; allow DNS to kube-dns on UDP **and** TCP
#   53 once egress is isolated.
# - Policies add up (a union per direction): there is no deny, and order does not matter.
# - In `from`/`to`, each dash is a new peer (OR); selectors in one entry are ANDed.
# - A `podSelector` peer only matches pods of the policy's namespace; add a
#   `namespaceSelector` in the same entry for other namespaces.
# - Empty selectors select everything; policy ports are container ports, not Service
#   ports.

# %% [markdown]
# ## Try it on a real cluster
#
# > Save `LOCKDOWN_YAML` (printed above) as `lockdown.yaml`:
# >
# > ```bash
# > kubectl apply -f lockdown.yaml
# > kubectl -n shop get networkpolicy
# > kubectl -n shop exec web -- curl -s -m 1 -o /dev/null -w '%{http_code}\n' http://api
# > kubectl -n shop exec web -- timeout 1 bash -c '</dev/tcp/db/3306' \
# >     && echo open || echo blocked              # expect: blocked
# > kubectl -n shop exec api -- timeout 1 bash -c '</dev/tcp/db/3306' \
# >     && echo open || echo blocked              # expect: open
# > kubectl -n shop exec web -- getent hosts api  # DNS still works
# > ```
