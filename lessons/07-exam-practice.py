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
# **Time:** 35 minutes (teaching 15, self-checks 20)
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
# - Verify allowed **and** denied connections with `kubectl exec ... -- curl -m 1` or
#   `nc -zv -w 1`.

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
# A `namespaceSelector` matches namespaces by their **labels**, never by their names.
# Custom labels (`team: monitoring`) only work if someone put them on the namespace.
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
# a CIDR with optional `except` ranges (which must lie inside the CIDR). A classic: allow
# the web pods HTTPS anywhere except the cloud metadata service. (On a real cluster,
# add the DNS rule of lesson 05 too.)

# %%
print(scenes.IPBLOCK_EGRESS_YAML)
ipblocked = scenes.with_yaml(world, scenes.IPBLOCK_EGRESS_YAML)
print(scenes.pod_table(ipblocked))

# %%
quiz.show("07-ipblock-partner")

# %%
quiz.show("07-ipblock-metadata")

# %% [markdown]
# ## 4. Named ports and endPort
#
# A policy port may be a **name** (`port: mysql`): it is looked up among the destination
# pod's container ports. A name that the pod does not define matches nothing, silently.
# A **range** uses `port` plus `endPort` (inclusive); `endPort` needs a numeric `port`.

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
# - `ipBlock` selects outside addresses, and `except` carves ranges out of its CIDR.
# - Named ports resolve on the destination pod; `endPort` needs a numeric `port`.
# - Peers and ports of one rule combine freely; split rules to keep pairs apart.
# - Verify with `curl -m 1` / `nc -zv -w 1`: one allowed and one denied connection.

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
# Each task is in `autograder/exercises/ID.yaml` (`task:`); write your answer in a file and
# grade it with `.venv/bin/npgrade ID answer.yaml`. Drills are timed, as in the exam:
# `.venv/bin/npgrade drill ID`.
#
# - `ipblock-except`, `named-ports-endport`, `fix-broken-policy`, `least-permissive`.
# - Drills: `cka-allow-monitoring`, `cka-block-metadata`, `cka-internal-policy`,
#   `cka-np-backend`, `cka-space1-egress`, `cka-pick-least-permissive`.
