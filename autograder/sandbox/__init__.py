"""Running student code: the sandboxed subprocess and the probes that run inside it."""
