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
# # 08 · Limits, and two drills
#
# **Time:** 25 minutes (teaching 8, self-checks and drills 17)
#
# **Questions**
# - What can a NetworkPolicy never block?
# - What can it not express at all?
# - Can you repair a broken policy against a goal, as in the exam?
#
# **Objectives**
# - State the traffic that is always allowed: a pod to itself, and the node to its pods.
# - Recognise what NetworkPolicy cannot do (deny rules, domain names, HTTP paths,
#   logging) and that enforcement is not instantaneous.
# - Fix a policy in YAML until the autograder passes it, as in a timed exam task.
#
# Terms are recalled in the [glossary](../docs/glossary.md).

# %%
# %matplotlib inline
from lessonkit import quiz, scenes

locked = scenes.three_tier(lockdown=True)

# %% [markdown]
# ## 1. Always allowed: a pod itself, and its node
#
# Two kinds of traffic get through whatever the policies say:
#
# - a pod can always reach **itself** (for example on `localhost`);
# - traffic between a pod and **the node it runs on** is allowed, so the kubelet's
#   liveness and readiness probes keep working under a default deny.
#
# (`hostNetwork` pods share the node's address, and how policies treat them is up to the
# plugin; do not rely on it.)

# %%
quiz.show("08-pod-to-itself")

# %%
quiz.show("08-kubelet-probe")

# %% [markdown]
# ## 2. What NetworkPolicy cannot do
#
# NetworkPolicy is deliberately small. It cannot:
#
# - **deny** explicitly (it only allows; lesson 05);
# - match **domain names** (FQDNs) or Service names: only labels and IP blocks;
# - look at **HTTP** (paths, methods, headers) or TLS: it works on IP, protocol and port;
# - **log** what it blocks or allows;
# - set defaults for the **whole cluster** in one object: each policy is namespaced.
#
# Plugins add their own objects for some of these (CiliumNetworkPolicy with `toFQDNs`,
# Calico's GlobalNetworkPolicy); they are not portable from one plugin to another.
#
# For rules over the whole cluster, SIG Network also works on an upstream API, outside
# Kubernetes itself: **ClusterNetworkPolicy** (`policy.networking.k8s.io/v1alpha2`,
# network-policy-api v0.2.0). It replaced the earlier AdminNetworkPolicy and
# BaselineAdminNetworkPolicy with one cluster-scoped object whose `tier` says whether it
# is decided before NetworkPolicies (`Admin`) or only where they say nothing
# (`Baseline`), with the actions Accept, Deny and Pass. It is an alpha CRD that you
# install and that your plugin must implement; it is not part of the CKA.

# %%
quiz.show("08-what-policy-can-do")

# %% [markdown]
# ## 3. Enforcement takes a moment
#
# `kubectl apply` returns as soon as the API server stores the policy. The plugin then
# programs every node, which takes a little time, and whether connections that were
# already open are cut is up to the plugin. When you test, open a **new** connection.

# %%
quiz.show("08-existing-connections")

# %% [markdown]
# ## 4. Drill: the Service port
#
# *"In namespace shop, allow the web pods to reach the api pods on their HTTP port;
# nothing else may reach the api pods."* A colleague wrote the policy below with the
# **Service** port. Fix it in the editor (the diagram follows every keystroke; the truth
# table opens on TCP 8080, the pod's port), then press **Check**: the autograder grades
# it as exercise `fix-broken-policy`, and names the mistake if it recognises it.

# %%
from autograder.grade import grade  # the course's grader: the same verdict as `npgrade`

quiz.challenge("08-drill-service-port", grade)

# %% [markdown]
# ## 5. Drill: one dash too many
#
# *"Only the api pods may reach the database, on TCP 3306."* This policy lets the web
# pods in as well. Find the dash. The truth table opens on TCP 3306; **Check** grades
# your fix as exercise `three-tier-db`.

# %%
quiz.challenge("08-drill-one-dash", grade)

# %% [markdown]
# ## Key points
#
# - A pod can always reach itself, and its node can always reach it (probes work).
# - NetworkPolicy only allows; it has no deny, no domain names, no HTTP, no logging, and
#   no cluster-wide object. Plugins' own policies fill some gaps, without portability;
#   the upstream ClusterNetworkPolicy (alpha, not on the CKA) adds cluster-wide rules.
# - Policies take effect shortly after `kubectl apply`; test with new connections.
# - Under time pressure: read the task's goal as a list of allowed **and** denied
#   connections, then check each one.

# %% [markdown]
# ## Try it on a real cluster
#
# > ```bash
# > kubectl -n shop exec db -- bash -c '</dev/tcp/127.0.0.1/3306' && echo "self: open"
# > kubectl -n shop delete networkpolicy --all
# > kubectl -n shop apply -f fixed-policy.yaml
# > kubectl -n shop exec web -- curl -s -m 1 -o /dev/null -w '%{http_code}\n' http://api
# > kubectl -n shop exec db -- timeout 1 bash -c '</dev/tcp/api/80' && echo open || echo blocked
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
# - `fix-broken-policy` and `three-tier-db`: the two drills above, from a terminal.
# - Every timed drill, as a mock exam (`npgrade list` orders them from easy to hard):
#   `cka-allow-monitoring`, `cka-namespace-expressions`, `cka-label-to-fix`,
#   `cka-same-namespace-only`, `cka-default-deny-egress`, `cka-deny-external-egress`,
#   `cka-pick-least-permissive`, `cka-udp-port`, `cka-diagnose-blocks-all`,
#   `cka-from-ingress-controller`, `cka-namespace-egress`, `cka-scheduler-egress`,
#   `cka-two-namespace-lockdown`, `cka-plugin-choice`, `cka-block-metadata`,
#   `cka-endport-range`, `cka-named-port-scrape`, `cka-nodelocal-dns`,
#   `cka-planner-egress`.
