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
# # 02 · The five rules of a three-tier application
#
# **Time:** 20 minutes (teaching 10, self-checks 10)
#
# **Questions**
# - If every connection had to be allowed explicitly, which rules would the shop need?
# - Why does one connection need two rules?
# - What breaks when one rule is missing?
#
# **Objectives**
# - List the five rules the web -> API -> database application needs, each with its
#   component, direction, peer and port.
# - Explain that a connection needs an egress rule at its source and an ingress rule at
#   its destination once both are locked down.
# - Predict which step of a request fails when a given rule is missing.
#
# Terms are recalled in the course's [glossary](../docs/glossary.md).

# %%
# %matplotlib inline
from lessonkit import quiz

# %% [markdown]
# ## 1. Listing the rules
#
# Imagine a shop where nothing is allowed unless a rule says so. Walk the request of
# lesson 01 and write one rule per component and direction:
#
# | # | Component | Direction | Allows | Port |
# |---|-----------|-----------|--------|------|
# | 1 | web server | ingress | users (HTTP) | TCP 80 |
# | 2 | web server | egress | to the API server | TCP 8080 |
# | 3 | API server | ingress | from the web server | TCP 8080 |
# | 4 | API server | egress | to the database server | TCP 3306 |
# | 5 | database server | ingress | from the API server | TCP 3306 |
#
# Rule 4 is the one people misplace: the egress rule that lets traffic *reach* the
# database belongs to the API server, the component that starts that connection. The
# database itself only needs an ingress rule (rule 5).

# %%
quiz.show("02-rule-for-api-to-db")

# %% [markdown]
# ## 2. One connection, two rules
#
# When both ends of a connection are locked down, it needs **both**:
#
# - an **egress** rule at the source (may this component call out there?), **and**
# - an **ingress** rule at the destination (may this caller come in?).
#
# Below, the shop is locked down with exactly the five rules (and DNS, lesson 05).
# Predict the four connections first; **Reveal** then draws the diagram. Each arrow has
# two halves, the source's egress and the destination's ingress, and a cross marks the
# half that blocks.
# The lamps on each box show which directions are locked down ("isolated").

# %%
quiz.show("02-predict-five-rules")

# %%
quiz.show("02-web-to-db-five-rules")

# %% [markdown]
# ## 3. What breaks when a rule is missing
#
# Take one rule away and exactly one step of the request fails. Predict which, then
# reveal: the answer is computed by the course's NetworkPolicy engine.

# %%
quiz.show("02-without-rule-4")

# %%
quiz.show("02-without-rule-1")

# %%
quiz.show("02-without-rule-3")

# %% [markdown]
# ## Key points
#
# - The shop needs five rules: ingress to web (HTTP), egress web -> API, ingress to API,
#   egress API -> database, ingress to the database.
# - An egress rule lives on the component that starts the connection; an ingress rule on
#   the one that receives it.
# - When both ends are locked down, a connection needs the egress rule **and** the
#   ingress rule; without either, that step of the request fails.

# %% [markdown]
# ## Try it on a real cluster
#
# > With the shop of lesson 01 running, list the connections the five rules must allow,
# > and check each one works *before* you add any policy (a later failure then means a
# > policy, not a broken app):
# >
# > ```bash
# > kubectl -n shop get pods -o wide --show-labels
# > kubectl -n shop exec web -- curl -s -m 1 -o /dev/null -w '%{http_code}\n' http://api
# > kubectl -n shop exec api -- timeout 1 bash -c '</dev/tcp/db/3306' && echo "api -> db open"
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
# - `three-tier-rules`: list the rules the three-tier application needs.
