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
# %matplotlib inline
import matplotlib.pyplot as plt

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
quiz.MultipleChoice(
    "Which component blocks a connection that a NetworkPolicy does not allow?",
    ["the API server", "the network plugin (CNI) on the nodes", "kube-proxy", "the pod itself"],
    1,
    "The API server only stores the policy; the network plugin enforces it.",
    hints=[
        "The API server validates and stores objects; it carries no pod traffic.",
        "",
        "kube-proxy implements Services, not NetworkPolicy.",
        "The application inside the pod knows nothing about policies.",
    ],
)

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
quiz.MultipleChoice(
    "Which of these does NOT enforce NetworkPolicy on its own?",
    ["Calico", "Cilium", "kube-router", "Flannel"],
    3,
    "Flannel provides pod networking only; pair it with a policy controller (Canal, "
    "kube-network-policies) to get enforcement.",
)

# %% [markdown]
# ## 3. On Flannel: created, no error, no effect
#
# On a plugin without support you can still create policies. `kubectl apply` says
# `networkpolicy.networking.k8s.io/db-policy created`, `kubectl get netpol` lists it,
# and **no error or warning** ever says it is ignored. The web pod still reaches the
# database. Predict first:

# %%
quiz.predict_connection(
    scenes.three_tier(with_db_policy=True, cni="flannel"),
    "shop/web",
    "shop/db",
    3306,
    question="db-policy is applied on a Flannel cluster. Can the web pod reach the database?",
)

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
fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
diagram = diagrams.draw_flows(
    ax,
    scenes.three_tier(with_db_policy=True, cni="flannel"),
    scenes.three_tier_flows(),
    title="db-policy on Flannel",
)
print(diagram.text())

# %%
quiz.MultipleChoice(
    "You applied db-policy and `kubectl get netpol -n shop` lists it. "
    "How do you know the database is protected?",
    [
        "kubectl printed `created`, so it is",
        "test web -> db: the connection must fail",
        "kubectl describe netpol shows the rule",
    ],
    1,
    "Only a denied connection that really fails proves enforcement.",
    hints=[
        "The API server accepts policies even when no plugin enforces them.",
        "",
        "describe shows what is stored, not whether anything enforces it.",
    ],
)

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
