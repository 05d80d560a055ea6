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
diagram = diagrams.picture(protected, flows, title="db-policy")
diagram

# %%
print(diagram.text())  # the same diagram, as text

# %%
quiz.show("05-second-api-pod")

# %% [markdown]
# ## 2. Locking down the whole application
#
# To control **every** connection we start from a *default deny*: a policy whose
# `podSelector: {}` selects every pod of the namespace, with both policy types and no
# rules. Then one policy per component adds back exactly the five rules of lesson 02,
# and `allow-dns` lets every pod look names up (section 4). The policies are printed
# below the self-check. Predict first: **Reveal** draws the diagram.

# %%
print(scenes.DEFAULT_DENY_YAML)

# %%
quiz.show("05-predict-lockdown")

# %%
print(scenes.LOCKDOWN_YAML)

# %%
quiz.show("05-web-without-egress")

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
quiz.show("05-two-policies-add-up")

# %%
quiz.show("05-stop-web-to-api")

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
quiz.show("05-dns-without-allow-dns")

# %%
quiz.show("05-best-dns-rule")

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
quiz.show("05-two-dashes")

# %%
print(scenes.DB_POLICY_AND_YAML)

# %%
quiz.show("05-one-dash")

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
quiz.show("05-prometheus-scope-bug")

# %%
print(scenes.PROMETHEUS_FIXED_YAML)

# %%
quiz.show("05-prometheus-fixed")

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
quiz.show("05-empty-rule")

# %%
quiz.show("05-empty-namespace-selector")

# %% [markdown]
# ## 8. Mistake: the Service port is not the pod port
#
# Policies act on traffic **after** the Service has forwarded it, so ports in a policy
# are the **container ports** of the destination pod. The api Service listens on 80 and
# forwards to 8080: a policy that allows port 80 on the api pod allows nothing useful.

# %%
print(scenes.SERVICE_PORT_BUG_YAML)

# %%
quiz.show("05-service-port")

# %% [markdown]
# ## 9. Write it: lock the shop down
#
# Start from the default deny in the editor and add, as more policies separated by
# `---`, exactly what the shop needs. Watch the arrows turn blue one by one; the truth
# table opens on TCP 3306, where web -> db must stay denied. **Check** grades your
# policies as `npgrade three-tier-lockdown` would.

# %%
from autograder.grade import grade  # the course's grader: the same verdict as `npgrade`

quiz.challenge("05-write-lockdown", grade)

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
# - `three-tier-db`: only the api pods reach the database.
# - `default-deny`: a default deny for a namespace.
# - `cross-namespace`: namespaceSelector AND podSelector in one entry.
# - `three-tier-lockdown`: the whole shop, egress and DNS included.
# - Drills, from easy to hard: `cka-label-to-fix`, `cka-same-namespace-only`,
#   `cka-default-deny-egress`, `cka-deny-external-egress`, `cka-pick-least-permissive`,
#   `cka-udp-port`, `cka-diagnose-blocks-all`, `cka-from-ingress-controller`,
#   `cka-namespace-egress`, `cka-scheduler-egress`, `cka-two-namespace-lockdown`.
