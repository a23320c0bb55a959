"""Read-only diagnostics adapters (k8s, docker, mysql, redis, http, dns, tcp, tls, aws) and triage."""
