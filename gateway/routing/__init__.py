"""Which model serves a request: deterministic sticky assignment and the route table."""
