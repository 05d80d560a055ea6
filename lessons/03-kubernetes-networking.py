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
# # 03 · Networking in Kubernetes: everything can reach everything
#
# **Time:** 20 minutes (teaching 12, self-checks 8)
#
# **Questions**
# - How do pods find and reach each other in a Kubernetes cluster?
# - What does a cluster allow when nobody has written a policy?
# - Why is that a problem for the shop?
#
# **Objectives**
# - State that every node, pod and Service has its own IP address.
# - Explain that pods reach each other by IP, by name or through a Service, with no
#   routes to configure.
# - Recognise the default "all allow" behaviour and the unwanted web -> database path it
#   leaves open.
#
# Terms are recalled in the course's [glossary](../docs/glossary.md).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from lessonkit import diagrams, quiz, scenes
from npcore import matrix

shop = scenes.three_tier()

# %% [markdown]
# ## 1. Every node, pod and Service has an IP
#
# A cluster is a set of **nodes** (machines) that run **pods**. Each node has an IP
# address, each pod gets its own IP address, and each **Service** gets one too (its
# cluster IP). We move the shop into Kubernetes with one pod per component: `web`, `api`
# and `db`, in a namespace called `shop`.

# %%
print(scenes.pod_table(shop))

# %%
quiz.show("03-pod-ips")

# %% [markdown]
# ## 2. Pods reach each other with no extra routes
#
# Kubernetes asks every network solution for one thing: **a pod can reach any other pod
# without configuring anything more**, such as routes. From the `web` pod you can reach
# the `api` pod:
#
# - by its IP address (`10.244.2.20`),
# - by a DNS name: a Service name such as `api` or `api.shop.svc.cluster.local` (a pod
#   gets a name of its own only when it sets `hostname` and `subdomain` and a headless
#   Service named like the subdomain selects it; a headless Service alone names no pod.
#   StatefulSets set this up for their pods),
# - through a **Service**, which forwards to the pods it selects.

# %%
quiz.show("03-what-to-configure")

# %% [markdown]
# ## 3. Services for the pods and for the users
#
# Pods come and go and their IPs change, so we create a **Service** per component. Other
# pods (and, through a load balancer or node port, the users) talk to the Service; it
# forwards each connection to a pod it selects by labels. Note the `api` Service: clients
# use port 80, and the connection arrives at the pod on **8080**, the container port.

# %%
print(scenes.service_table(shop))

# %%
quiz.show("03-service-port")

# %% [markdown]
# ## 4. The default: all allow
#
# Out of the box, Kubernetes has no restriction at all: an "all allow" default lets any
# pod reach any other pod or Service. Predict one connection, then look at the table
# below, computed for TCP 3306 (the database port): every row is a source, every column
# a destination.

# %%
quiz.show("03-web-to-db-no-policy")

# %%
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
diagrams.draw_matrix(ax, matrix(shop, 3306), title="TCP 3306, no policies")

# %% [markdown]
# ## 5. What we want instead
#
# The web pod never needs the database: only the API server does. Yet with the default,
# a compromised web pod could query the database directly. We want a rule that says
# **the database accepts traffic only from the API server**. In Kubernetes that rule is
# a *NetworkPolicy*, the subject of the next lesson.

# %%
diagram = diagrams.picture(shop, scenes.three_tier_flows(), title="All allow")
diagram

# %%
print(diagram.text())  # the same diagram, as text

# %%
quiz.show("03-which-to-stop")

# %% [markdown]
# ## Key points
#
# - Every node, pod and Service in a cluster has its own IP address.
# - Pods reach each other by IP, by name or through a Service, with no routes to add.
# - Services forward their port to the pod's container port (`targetPort`).
# - The default is **all allow**: any pod can reach any pod, so the web pod can reach
#   the database directly. A NetworkPolicy is how we stop that.

# %% [markdown]
# ## Try it on a real cluster
#
# > ```bash
# > kubectl get nodes -o wide                        # node IPs
# > kubectl -n shop get pods -o wide --show-labels   # pod IPs and labels
# > kubectl -n shop get svc,endpointslices           # Service IPs and the pods behind them
# > # all allow: the web pod reaches the database directly (this should NOT be possible)
# > kubectl -n shop exec web -- timeout 1 bash -c '</dev/tcp/db/3306' && echo "web -> db open"
# > kubectl -n shop get networkpolicy                # "No resources found": nothing restricts
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
# - `predict-default-allow`: predict a cluster with no policies.
