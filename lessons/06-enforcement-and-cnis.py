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
# # 06 · Who enforces a policy? Network plugins (CNIs)
#
# **Time:** 20 minutes (teaching 10, self-checks 10)
#
# **Questions**
# - Which part of the cluster actually blocks a connection?
# - Do all network plugins enforce NetworkPolicy?
# - What do you see when a policy is not enforced?
#
# **Objectives**
# - Explain that the network plugin (CNI), not the API server, enforces NetworkPolicy.
# - Name plugins that enforce policies and one that does not (Flannel).
# - Predict what happens on a plugin without support: the policy is created, no error,
#   nothing changes; and know how to check your own cluster.

# %%
from lessonkit import diagrams, quiz, scenes
from lessonkit.widgets import FlowExplorer
from npcore import KNOWN_CNIS

# %% [markdown]
# ## 1. The network plugin enforces policies
#
# `kubectl apply` hands a NetworkPolicy to the API server, which checks its fields and
# **stores** it. Nothing more happens there. The blocking is done on every node by the
# cluster's **network solution**, the CNI plugin that also gives pods their IPs: it
# watches the policies and programs the node (iptables, nftables, eBPF...).

# %%
quiz.show("06-who-blocks")

# %% [markdown]
# ## 2. Which plugins enforce them
#
# Not every network solution supports NetworkPolicy. What the course's model knows:

# %%
for cni in KNOWN_CNIS.values():
    print(f"{cni.name:12} {'enforces' if cni.enforces else 'does NOT enforce':17} {cni.note}")

# %% [markdown]
# - **Calico**, **Cilium**, **Antrea** and **kube-router** enforce NetworkPolicy.
# - **Weave Net** and **Romana** are historically listed as supporting it *(historical:
#   Weaveworks closed in 2024 and Weave Net is archived; check Romana's status before
#   relying on it)*.
# - **Flannel** on its own does **not**. **Canal** is Flannel for networking plus Calico
#   for policies; Flannel's chart can also add the kube-network-policies controller, and
#   k3s pairs Flannel with an embedded kube-router policy controller.
# - **kind** enforces policies by default since v0.24; older tutorials say it does not.
#
# Plugins and defaults change: **always check your network solution's documentation**.

# %%
quiz.show("06-not-enforcing")

# %% [markdown]
# ## 3. On Flannel: created, no error, no effect
#
# On a plugin without support you can still create policies. `kubectl apply` says
# `networkpolicy.networking.k8s.io/db-policy created`, `kubectl get netpol` lists it,
# and **no error or warning** ever says it is ignored. The web pod still reaches the
# database. Predict first:

# %%
quiz.show("06-flannel-db-policy")

# %% [markdown]
# Now explore. Switch the **CNI** dropdown between `calico` and `flannel`, untick
# policies, and pick a connection to read why it is allowed or denied.

# %%
FlowExplorer(
    scenes.three_tier(lockdown=True),
    scenes.three_tier_flows(with_dns=True),
    policies_yaml=scenes.yaml_by_policy(scenes.LOCKDOWN_YAML),
    title="The locked-down shop",
)

# %% [markdown]
# ## 4. Checking your own cluster
#
# Because nothing warns you, check before you trust a policy:
#
# 1. Find the plugin: `kubectl get pods -n kube-system` (look for `calico-node`,
#    `cilium`, `kube-router`, `kube-flannel`...) and read its documentation.
# 2. **Test a connection that should be denied.** A policy is only proven when a
#    forbidden connection actually fails.

# %%
diagram = diagrams.picture(
    scenes.three_tier(with_db_policy=True, cni="flannel"),
    scenes.three_tier_flows(),
    title="db-policy on Flannel",
)
diagram

# %%
print(diagram.text())  # the same diagram, as text

# %%
quiz.show("06-prove-it")

# %% [markdown]
# ## 5. Write it: a default deny
#
# A different team, a different namespace: `prod` holds `frontend` and `backend`, `dev`
# holds `tester`. Write the default deny for `prod` (on a cluster whose plugin enforces
# it). **Check** grades it as `npgrade default-deny` would.

# %%
from autograder.grade import grade  # the course's grader: the same verdict as `npgrade`

quiz.challenge("06-write-default-deny", grade)

# %% [markdown]
# ## Key points
#
# - NetworkPolicy is enforced by the network plugin (CNI), not by the API server.
# - Calico, Cilium, Antrea and kube-router enforce it; Weave Net and Romana are
#   historically listed; Flannel alone does not (Canal = Flannel + Calico).
# - On a plugin without support the policy is created and listed, with no error, and
#   has no effect.
# - Always check the plugin's documentation, and test a connection that must be denied.

# %% [markdown]
# ## Try it on a real cluster
#
# > ```bash
# > kubectl get pods -n kube-system -o wide        # which network plugin runs here?
# > kubectl get daemonsets -A                      # calico-node, cilium, kube-flannel-ds...
# > kubectl apply -f db-policy.yaml                # "created", whatever the plugin
# > kubectl -n shop exec web -- timeout 1 bash -c '</dev/tcp/db/3306' \
# >     && echo "open: policies are NOT enforced here" || echo "blocked: enforced"
# > ```

# %% [markdown]
# ## Practise: graded exercises and drills
#
# The autograder grades these by what your answer *does* (run in a terminal, in the
# repository; `.venv/bin/npgrade list` shows every exercise, its points and its time).
# Each task is in `autograder/exercises/ID.yaml` (`task:`); write your answer in a file and
# grade it with `.venv/bin/npgrade ID answer.yaml`. Drills are timed, as in the exam:
# `.venv/bin/npgrade drill ID`.
#
# - `predict-flannel`: what Flannel does with a policy.
# - `default-deny`: the default deny you wrote above.
