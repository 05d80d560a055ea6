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
from lessonkit import quiz, scenes

shop = scenes.three_tier()

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
quiz.show("04-policy-namespace")

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
quiz.show("04-relabelled-db")

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
quiz.show("04-predict-db-policy")

# %%
quiz.show("04-web-to-db-db-policy")

# %%
quiz.show("04-db-to-web-db-policy")

# %% [markdown]
# ## 4. policyTypes: which directions
#
# `spec.policyTypes` lists the directions the policy isolates: `Ingress`, `Egress` or
# both. A selected pod is locked down only in those directions. If you leave the field
# out, Kubernetes fills it in: `Ingress` always, plus `Egress` when the policy has
# egress rules. A policy meant to lock down egress should therefore say so.

# %%
quiz.show("04-no-rules-no-types")

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
quiz.show("04-what-is-port")

# %%
quiz.show("04-api-to-db-port-22")

# %% [markdown]
# ## 6. Write it: db-policy
#
# Your turn to write a policy. The editor checks every keystroke as the API server
# would (an error shows its line, with a caret under the column), the diagram and the
# truth table follow the last valid version, and **Check** grades your policy with the
# course's autograder, exactly as `npgrade three-tier-db` would.

# %%
from autograder.grade import grade  # the course's grader: the same verdict as `npgrade`

quiz.challenge("04-write-db-policy", grade)

# %% [markdown]
# ## 7. Egress rules: to and ports
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
print(scenes.yaml_by_policy(scenes.LOCKDOWN_YAML)["api"])

# %%
quiz.show("04-api-egress-db")

# %%
quiz.show("04-api-egress-web")

# %% [markdown]
# ## 8. Other namespaces: namespaceSelector
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
print(scenes.pod_table(scenes.multi_namespace()))
print(scenes.DB_FROM_MONITORING_YAML)

# %%
quiz.show("04-from-monitoring-dev")

# %% [markdown]
# ## 9. Sets of values: matchExpressions
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
print(scenes.DB_NOT_DEV_YAML)

# %%
quiz.show("04-notin-missing-label")

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
# - `three-tier-db`: the db-policy of this lesson, with more pods watching (graded as
#   part of problem set 2, after lesson 05).
# - Drills: `cka-allow-monitoring` (5 minutes, namespaceSelector) and
#   `cka-namespace-expressions` (5 minutes, matchExpressions).
