"""Hidden checks: pytest tests that judge what the sandboxed probes observed."""
