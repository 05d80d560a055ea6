"""npcore: decide Kubernetes NetworkPolicy connections exactly as Kubernetes does."""
