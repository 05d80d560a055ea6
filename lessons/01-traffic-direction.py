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
# # 01 · Traffic direction: ingress and egress
#
# **Time:** 15 minutes (teaching 9, self-checks 6)
#
# **Questions**
# - What happens, connection by connection, when a user opens a web shop?
# - When is traffic *ingress* and when is it *egress*?
# - Does the reply to a request count as traffic in the other direction?
#
# **Objectives**
# - Describe the three-tier application used in this course: web, API and database servers.
# - Name each connection of the application as ingress or egress, from one component's
#   point of view.
# - Explain why only the side that *starts* a connection decides its direction.
#
# Terms are recalled in the course's [glossary](../docs/glossary.md).

# %%
from lessonkit import diagrams, quiz, scenes

# %% [markdown]
# ## 1. A three-tier application
#
# Applications come in many shapes. The one we follow through the whole course has three
# parts:
#
# - a **web server** that serves the front end (the pages) to users,
# - an **API server** (the application server) that serves the back end,
# - a **database server** that stores the data.
#
# Follow one request. A user asks the web server for a page. To build it, the web server
# asks the API server; the API server fetches the rows it needs from the database server;
# the data travels back the way it came and the user sees the page.
#
# The diagram below is drawn from the course's model of the shop (the same model that
# decides every later exercise). Each arrow starts where the connection starts.

# %%
shop = scenes.three_tier()
flows = scenes.three_tier_flows()[:3]  # the three steps of one request
diagram = diagrams.picture(shop, flows, title="One request through the shop")
diagram

# %%
print(diagram.text())  # the same diagram, as text

# %%
quiz.show("01-who-opens-db")

# %% [markdown]
# ## 2. Ingress and egress
#
# There are two kinds of traffic, and both are named **from the point of view of one
# component**:
#
# - **ingress**: traffic that comes *in* to the component;
# - **egress**: traffic that goes *out* of the component.
#
# Take the web server. The request from the user comes in: for the web server it is
# **ingress**. The request the web server sends to the API server goes out: for the web
# server it is **egress**.

# %%
quiz.show("01-user-to-web-for-web")

# %%
quiz.show("01-web-to-api-for-web")

# %% [markdown]
# ## 3. Only the start of the connection counts
#
# When you name a direction, look only at where the traffic **originated**: who opened
# the connection. The answer travels back over the same connection, so **the response
# does not matter**. The page going back to the user is not "egress traffic of the web
# server"; it is the reply to the user's ingress connection.

# %%
quiz.show("01-the-reply")

# %% [markdown]
# ## 4. The API server and the database server
#
# Apply the same test to the other two components:
#
# - The **API server** receives ingress traffic from the web server, and sends egress
#   traffic to the database server.
# - The **database server** receives ingress traffic from the API server. It starts no
#   connection of its own, so it has no egress traffic in this application.

# %%
quiz.show("01-web-to-api-for-api")

# %%
quiz.show("01-api-to-db-for-api")

# %%
quiz.show("01-api-to-db-for-db")

# %% [markdown]
# ## Key points
#
# - The course's application has three tiers: web server (front end), API server
#   (back end) and database server.
# - Ingress comes in to a component, egress goes out of it: always say *for which
#   component*.
# - The direction is set by who **starts** the connection; replies do not count.
# - Web: ingress from users, egress to the API. API: ingress from web, egress to the
#   database. Database: ingress from the API.

# %% [markdown]
# ## Try it on a real cluster
#
# > Any cluster works for this lesson (kind, minikube, k3d, a cloud cluster). Create the
# > shop that the next lessons lock down, then watch one connection start from each side.
# >
# > ```bash
# > kubectl create namespace shop
# > kubectl -n shop run web --image=nginx:1.27 --labels=name=web-pod,tier=frontend --port=80
# > kubectl -n shop run api --image=nginxinc/nginx-unprivileged:1.27 \
# >     --labels=name=api-pod,tier=backend --port=8080
# > kubectl -n shop run db --image=mysql:8.4 --env=MYSQL_ROOT_PASSWORD=example \
# >     --labels=role=db,tier=database --port=3306
# > kubectl -n shop expose pod web --port=80
# > kubectl -n shop expose pod api --port=80 --target-port=8080
# > kubectl -n shop expose pod db --port=3306
# > kubectl -n shop wait --for=condition=Ready pod --all --timeout=120s
# > # web starts a connection to api: egress for web, ingress for api
# > kubectl -n shop exec web -- curl -s -m 1 -o /dev/null -w '%{http_code}\n' http://api
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
# - `classify-direction`: ingress or egress, from one component's point of view.
