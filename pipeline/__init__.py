"""The generic engine: durable queue, worker, leases, retries, events and the CLI."""
