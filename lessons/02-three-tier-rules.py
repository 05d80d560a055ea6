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
import matplotlib.pyplot as plt

from lessonkit import diagrams, quiz, scenes

flows = scenes.three_tier_flows()[:3]  # user -> web, web -> api, api -> db

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
quiz.MultipleChoice(
    "Which rule lets the API server open connections to the database server?",
    [
        "an ingress rule on the API server",
        "an egress rule on the API server, to the database on TCP 3306",
        "an egress rule on the database server",
    ],
    1,
    "The API server starts the connection, so the rule is egress, on the API server.",
    hints=[
        "Ingress on the API server is about connections coming in from the web server.",
        "",
        "The database does not start this connection; egress on it is about its own calls.",
    ],
)

# %% [markdown]
# ## 2. One connection, two rules
#
# When both ends of a connection are locked down, it needs **both**:
#
# - an **egress** rule at the source (may this component call out there?), **and**
# - an **ingress** rule at the destination (may this caller come in?).
#
# Below, the shop is locked down with exactly the five rules (and DNS, lesson 05).
# Predict the four connections first. In the diagram each arrow has two halves, the
# source's egress and the destination's ingress, and a cross marks the half that blocks.
# The lamps on each box show which directions are locked down ("isolated").

# %%
locked = scenes.three_tier(lockdown=True)
quiz.PredictFlows(locked, scenes.three_tier_flows(), question="Predict each connection.")

# %%
fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
diagram = diagrams.draw_flows(ax, locked, scenes.three_tier_flows(), title="The five rules")

# %%
print(diagram.text())

# %%
quiz.predict_connection(
    locked,
    "shop/web",
    "shop/db",
    3306,
    question="With only the five rules, can the web server reach the database on TCP 3306?",
    explanation="No rule allows web -> db, at either end.",
)

# %% [markdown]
# ## 3. What breaks when a rule is missing
#
# Take one rule away and exactly one step of the request fails. Predict which, then
# reveal: the answer is computed by the course's NetworkPolicy engine.

# %%
quiz.which_flow_breaks(
    scenes.three_tier(lockdown=True, without="api-egress"),
    flows,
    question="Rule 4 (egress from the API server to the database) is missing. What fails?",
)

# %%
quiz.which_flow_breaks(
    scenes.three_tier(lockdown=True, without="web-ingress"),
    flows,
    question="Rule 1 (ingress to the web server on TCP 80) is missing. What fails?",
)

# %%
quiz.which_flow_breaks(
    scenes.three_tier(lockdown=True, without="api-ingress"),
    flows,
    question="Rule 3 (ingress to the API server from the web server) is missing. What fails?",
    explanation="The web server may send (rule 2), but the API server does not let it in.",
)

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
