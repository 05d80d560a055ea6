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
# **Time:** 30 minutes (teaching 15, self-checks 15)
#
# **Questions**
# - Which part of the cluster actually blocks a connection?
# - Do all network plugins enforce NetworkPolicy?
# - What do you see when a policy is not enforced?
# - How do you choose a plugin that enforces policies, and where do plugins differ?
#
# **Objectives**
# - Explain that the network plugin (CNI), not the API server, enforces NetworkPolicy.
# - Name plugins that enforce policies and one that does not (Flannel).
# - Predict what happens on a plugin without support: the policy is created, no error,
#   nothing changes; and know how to check your own cluster.
# - Choose a plugin that enforces policies, find its pods, and name two details in which
#   enforcing plugins differ (`ipBlock` and pod addresses, `endPort`).
#
# Terms are recalled in the [glossary](../docs/glossary.md).

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
HISTORICAL = ("weave-net", "romana")  # only what older material lists (see below)
for cni in KNOWN_CNIS.values():
    if cni.name not in (*HISTORICAL, "spec"):  # "spec": the specification, not a plugin
        print(f"{cni.name:22} {cni.summary}")
print("older material also lists:", ", ".join(HISTORICAL))

# %% [markdown]
# - **Antrea**, **Calico**, **Cilium** and **kube-router** enforce NetworkPolicy: these
#   are the providers the Kubernetes documentation lists today.
# - Older material (the notes this course grew from included) also lists **Romana** and
#   **Weave Net**. Kubernetes now calls Romana defunct (unmaintained since 2019), and
#   Weave Net's project was archived when Weaveworks closed in 2024; both provider pages
#   were removed from the documentation. Do not install either on a new cluster.
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
# 1. Find the plugin: `kubectl get pods -A` (or `kubectl get daemonsets -A`) and look for
#    its node agents. They do not all live in `kube-system`: current Flannel manifests
#    install into `kube-flannel`, Calico installed by its operator runs `calico-node` in
#    `calico-system`, while Cilium and kube-router run in `kube-system`. Then read the
#    plugin's documentation.
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
# ## 6. Choosing a plugin that enforces policies
#
# A cluster set up without a network plugin has `NotReady` nodes and pods without
# addresses. When you install one (the current exam has such a task), check two things
# before you apply its manifest:
#
# 1. **Does it enforce NetworkPolicy?** Antrea, Calico, Cilium and kube-router do;
#    Flannel alone does not, however well it networks pods.
# 2. **Is it maintained?** A project archived years ago (Weave Net) or called defunct
#    (Romana) is no choice for a new cluster, whatever older tutorials say.
#
# Then follow its installation page exactly (Calico, for example, installs an operator
# first, then a resource that describes the network), and watch its node agents start:
# `kubectl get pods -n calico-system -w` for Calico installed by its operator.

# %%
quiz.show("06-choose-plugin")

# %% [markdown]
# ## 7. Where enforcing plugins differ
#
# The API describes what a policy means; plugins that enforce it still differ in a few
# documented details. Two matter for the exam and for everyday policies:
#
# - **`ipBlock` and pod addresses.** The Kubernetes documentation says `ipBlock` is meant
#   for addresses outside the cluster, because pod IPs change. Calico also matches pod
#   addresses against an `ipBlock`; Cilium never does (its address rules apply only to
#   endpoints it does not manage). So an egress rule "`0.0.0.0/0` except the metadata
#   address" lets pods reach other pods and DNS on Calico, and cuts them off on Cilium
#   (and on platforms built on it). Select pods and namespaces with selectors, and keep
#   `ipBlock` for the outside.
# - **`endPort`.** A plugin that does not support port ranges creates the policy with
#   only its `port`; older Cilium versions ignored `endPort` in the same way, without an
#   error. On such a plugin a range 32000 to 32768 allows 32000 alone.
#
# The course's model follows the specification unless you pick a plugin (the explorers'
# CNI switch; `--cni` on the command line), so you can see such a difference for yourself.
# What the model knows about the two plugins of the example:

# %%
for name in ("calico", "cilium"):
    print(f"{name:8} {KNOWN_CNIS[name].summary}")

# %% [markdown]
# Here is that policy on every pod of `prod`. Switch the **CNI** dropdown from `calico`
# to `cilium`: the metadata service stays blocked on both, the partner outside stays
# reachable, but on Cilium the pod of its own namespace, the pod of `dev` and the DNS
# lookup are cut too. Pick a connection to read why.

# %%
FlowExplorer(
    scenes.with_yaml(scenes.multi_namespace(with_dns=True), scenes.METADATA_BLOCK_YAML),
    scenes.metadata_flows(),
    policies_yaml={"block-metadata": scenes.METADATA_BLOCK_YAML},
    title="Egress anywhere except the metadata service",
)

# %%
quiz.show("06-cilium-ipblock")

# %% [markdown]
# ## Key points
#
# - NetworkPolicy is enforced by the network plugin (CNI), not by the API server.
# - Antrea, Calico, Cilium and kube-router enforce it; Flannel alone does not (Canal =
#   Flannel + Calico). Romana and Weave Net are only what older material lists.
# - Find the plugin with `kubectl get pods -A`: `kube-flannel`, `calico-system` or
#   `kube-system`, depending on the plugin and how it was installed.
# - Enforcing plugins differ in details: Cilium never matches pods with `ipBlock`
#   (Calico does), and a plugin without `endPort` support enforces only `port`.
# - On a plugin without support the policy is created and listed, with no error, and
#   has no effect.
# - Always check the plugin's documentation, and test a connection that must be denied.

# %% [markdown]
# ## Try it on a real cluster
#
# > ```bash
# > kubectl get pods -A -o wide                    # which network plugin runs here, and where?
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
# Each task is in `autograder/exercises/ID.yaml` (`task:`), and `.venv/bin/npgrade show ID`
# prints its cluster as `kubectl` would; write your answer in a file and grade it with
# `.venv/bin/npgrade ID answer.yaml`. Drills are timed, as in the exam:
# `.venv/bin/npgrade drill ID`.
#
# - `predict-flannel`: what Flannel does with a policy.
# - `default-deny`: the default deny you wrote above.
# - Drill: `cka-plugin-choice` (4 minutes): choose and install a plugin that enforces
#   policies.
