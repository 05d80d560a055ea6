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
# - Fix a policy in YAML until npcore confirms every goal.
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
quiz.predict_connection(
    locked,
    "shop/db",
    "shop/db",
    3306,
    question="The shop is locked down. Can the db pod connect to its own port 3306?",
    explanation="A pod cannot block access to itself.",
)

# %%
quiz.MultipleChoice(
    "A default deny (ingress) is applied in shop. What happens to the kubelet's HTTP "
    "readiness probe on the web pod?",
    [
        "it fails, so the pod becomes NotReady",
        "it keeps working: node-to-pod traffic is always allowed",
        "it works only if a policy allows the node's IP",
    ],
    1,
    "Traffic from the node a pod runs on is always allowed, so probes keep working.",
)

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
quiz.MultipleChoice(
    "Which of these can a plain NetworkPolicy do?",
    [
        "allow egress only to api.example.com",
        "allow only GET requests to /health",
        "allow egress to 198.51.100.0/24 on TCP 443",
        "log every denied connection",
    ],
    2,
    "IP blocks, protocols and ports are within reach; names, HTTP and logs are not.",
    hints=[
        "Domain names are not part of the API: use an ipBlock or a plugin's FQDN policy.",
        "NetworkPolicy does not look inside HTTP.",
        "",
        "There is no logging in the API; some plugins offer it separately.",
    ],
)

# %% [markdown]
# ## 3. Enforcement takes a moment
#
# `kubectl apply` returns as soon as the API server stores the policy. The plugin then
# programs every node, which takes a little time, and whether connections that were
# already open are cut is up to the plugin. When you test, open a **new** connection.

# %%
quiz.MultipleChoice(
    "You applied a deny-all policy while a long-lived connection from web to db was open. "
    "What can you rely on?",
    [
        "the open connection is closed at once",
        "new connections are blocked once the plugin has applied the policy",
        "nothing changes until the pods restart",
    ],
    1,
    "New connections follow the policy once it is programmed; existing ones depend on the plugin.",
)

# %% [markdown]
# ## 4. Drill: the Service port
#
# *"In namespace shop, allow the web pods to reach the api pods on their HTTP port;
# nothing else may reach the api pods."* A colleague wrote the policy below with the
# **Service** port. Fix it in the editor (the diagram follows every keystroke), then
# press Check.

# %%
quiz.FixThisPolicy(
    scenes.three_tier(),
    scenes.three_tier_flows(),
    scenes.SERVICE_PORT_BUG_YAML,
    [
        quiz.Expect("shop/web", "shop/api", 8080, True),
        quiz.Expect("shop/db", "shop/api", 8080, False),
        quiz.Expect("user", "shop/api", 8080, False),
    ],
    description="Allow web -> api on the api pod's HTTP port; deny other sources.",
)

# %% [markdown]
# ## 5. Drill: one dash too many
#
# *"Only the api pods may reach the database, on TCP 3306."* This policy lets the web
# pods in as well. Find the dash.

# %%
quiz.FixThisPolicy(
    scenes.three_tier(),
    scenes.three_tier_flows(),
    scenes.DB_POLICY_OR_BUG_YAML,
    [
        quiz.Expect("shop/api", "shop/db", 3306, True),
        quiz.Expect("shop/web", "shop/db", 3306, False),
    ],
    description="Only the api pods may reach the database, on TCP 3306.",
)

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
