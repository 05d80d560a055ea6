"""The policy YAML the lessons show (the ``*_YAML`` constants), kept apart from the
scenes that use them (:mod:`lessonkit.scenes` re-exports every name).

Each constant is what a learner reads in a lesson; tests/test_scenes.py checks that npcore's
loader decodes each one to the values the scenes build.
"""

from __future__ import annotations

__all__ = [
    "API_INGRESS_YAML",
    "DB_FROM_MONITORING_YAML",
    "DB_NOT_DEV_YAML",
    "DB_POLICY_AND_YAML",
    "DB_POLICY_OR_BUG_YAML",
    "DB_POLICY_YAML",
    "DEFAULT_DENY_YAML",
    "ENDPORT_NAMED_BUG_YAML",
    "EXTRA_DB_ACCESS_YAML",
    "IPBLOCK_EGRESS_YAML",
    "LOCKDOWN_YAML",
    "MERGED_RULE_YAML",
    "METADATA_BLOCK_YAML",
    "NAMED_PORT_YAML",
    "NAMESPACE_LABEL_BUG_YAML",
    "NO_NAMESPACE_YAML",
    "PROMETHEUS_FIXED_YAML",
    "PROMETHEUS_SCOPE_BUG_YAML",
    "SERVICE_PORT_BUG_YAML",
    "SPLIT_RULES_YAML",
]

# --- the policies of the three-tier story -----------------------------------------------

DB_POLICY_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: api-pod
    ports:
    - protocol: TCP
      port: 3306
"""

API_INGRESS_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      name: api-pod
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: web-pod
    ports:
    - protocol: TCP
      port: 8080
"""

DEFAULT_DENY_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
"""

LOCKDOWN_YAML = (
    DEFAULT_DENY_YAML
    + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
  namespace: shop
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector:
    matchLabels:
      name: web-pod
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - ports:
    - protocol: TCP
      port: 80
  egress:
  - to:
    - podSelector:
        matchLabels:
          name: api-pod
    ports:
    - protocol: TCP
      port: 8080
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
  namespace: shop
spec:
  podSelector:
    matchLabels:
      name: api-pod
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: web-pod
    ports:
    - protocol: TCP
      port: 8080
  egress:
  - to:
    - podSelector:
        matchLabels:
          role: db
    ports:
    - protocol: TCP
      port: 3306
---
"""
    + DB_POLICY_YAML
)

# The classic mistakes of lesson 05, each a variant of DB_POLICY_YAML.

DB_POLICY_OR_BUG_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: shop
    - podSelector:
        matchLabels:
          name: api-pod
    ports:
    - protocol: TCP
      port: 3306
"""

DB_POLICY_AND_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: shop
      podSelector:
        matchLabels:
          name: api-pod
    ports:
    - protocol: TCP
      port: 3306
"""

SERVICE_PORT_BUG_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      name: api-pod
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: web-pod
    ports:
    - protocol: TCP
      port: 80
"""

# Lesson 05, podSelector scope: Prometheus (namespace monitoring) scraping prod/db.

PROMETHEUS_SCOPE_BUG_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-metrics
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: prometheus
    ports:
    - protocol: TCP
      port: 5432
"""

PROMETHEUS_FIXED_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-metrics
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring
      podSelector:
        matchLabels:
          app: prometheus
    ports:
    - protocol: TCP
      port: 5432
"""

# Lesson 07: namespaces by label, ipBlock with except, named ports and endPort.

NAMESPACE_LABEL_BUG_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-metrics
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          team: monitoring
      podSelector:
        matchLabels:
          app: prometheus
    ports:
    - protocol: TCP
      port: 5432
"""

IPBLOCK_EGRESS_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-egress
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except:
        - 169.254.169.254/32
    ports:
    - protocol: TCP
      port: 443
"""

NAMED_PORT_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: api-pod
    ports:
    - protocol: TCP
      port: mysql
"""

ENDPORT_NAMED_BUG_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: api-pod
    ports:
    - protocol: TCP
      port: mysql
      endPort: 3310
"""

# Lesson 05: policies add up.

EXTRA_DB_ACCESS_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: reports-to-db
  namespace: shop
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          name: web-pod
    ports:
    - protocol: TCP
      port: 3306
"""

# Lesson 07: a policy without metadata.namespace; one merged rule vs two rules.

NO_NAMESPACE_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-lockdown
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
"""

MERGED_RULE_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-access
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring
      podSelector:
        matchLabels:
          app: prometheus
    ports:
    - protocol: TCP
      port: 5432
    - protocol: TCP
      port: 9187
"""

SPLIT_RULES_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-access
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - protocol: TCP
      port: 5432
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring
      podSelector:
        matchLabels:
          app: prometheus
    ports:
    - protocol: TCP
      port: 9187
"""

# --- lesson 04: namespaceSelector and matchExpressions ------------------------------------

DB_FROM_MONITORING_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-monitoring, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: monitoring}
    ports: [{protocol: TCP, port: 5432}]
"""

DB_NOT_DEV_YAML = DB_FROM_MONITORING_YAML.replace(
    "matchLabels: {kubernetes.io/metadata.name: monitoring}",
    "matchExpressions: [{key: env, operator: NotIn, values: [dev]}]",
)

# --- lesson 06: where enforcing plugins differ ---------------------------------------------

METADATA_BLOCK_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: block-metadata
  namespace: prod
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except:
        - 169.254.169.254/32
"""
