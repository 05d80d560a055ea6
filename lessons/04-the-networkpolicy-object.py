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
# **Time:** 25 minutes (teaching 13, self-checks 12)
#
# **Questions**
# - What is a NetworkPolicy, and how is it attached to pods?
# - What happens to a pod's traffic once a policy selects it?
# - How do you write an ingress rule with a source and a port?
#
# **Objectives**
# - Read a NetworkPolicy manifest: `apiVersion`, `kind`, `metadata.namespace`, `spec`.
# - Link a policy to pods with labels and `spec.podSelector`.
# - Explain isolation: once selected, a pod accepts only the traffic the rules allow, for
#   the directions in `policyTypes`, and no other pod is affected.
# - Write an ingress rule with `from` (a pod selector) and `ports`.

# %%
# %matplotlib inline
from lessonkit import quiz, scenes

shop = scenes.three_tier()

# %% [markdown]
# ## 1. A namespaced object
#
# A NetworkPolicy is one more Kubernetes object, like a Pod or a Service. It lives in a
# **namespace** (`metadata.namespace`) and only ever concerns pods of that namespace.
# Its `apiVersion` is `networking.k8s.io/v1` and its `kind` is `NetworkPolicy`. Under
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
# ## 3. Once selected, everything else is blocked
#
# While no policy selects a pod, it accepts everything. As soon as a policy selects it,
# the pod is **isolated**: traffic not allowed by a rule is blocked. This only applies to
# the **selected** pods: the web and API pods are unaffected by db-policy.

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
#   container port (3306 for the database), not a port of the sending pod.
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
# ## Key points
#
# - A NetworkPolicy (`networking.k8s.io/v1`, kind `NetworkPolicy`) is a namespaced
#   object; it only selects pods of its own namespace.
# - It is linked to pods by labels: `spec.podSelector` selects the pods it applies to.
# - A selected pod is isolated for the directions in `policyTypes`: only traffic allowed
#   by a rule gets through. Pods no policy selects are unaffected.
# - An ingress rule allows traffic matching `from` (who sends) and `ports` (the port it
#   arrives on).

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
# Each task is in `autograder/exercises/ID.yaml` (`task:`); write your answer in a file and
# grade it with `.venv/bin/npgrade ID answer.yaml`. Drills are timed, as in the exam:
# `.venv/bin/npgrade drill ID`.
#
# - `three-tier-db`: the db-policy of this lesson, with more pods watching.
# - `default-deny`: a default deny for a namespace.
# - Once you have done lessons 05 and 07: `cross-namespace`, `named-ports-endport`
#   and `ipblock-except`.
