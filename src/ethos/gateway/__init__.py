"""The secure gateway: OpenAI and Ollama APIs in front of any local model server.

Keys, TLS, limits, PII and policy guards, a disclaimer, citations and a tamper-evident audit log.
Start it with ``ethos gateway serve``; see ``docs/gateway.md``.
"""
