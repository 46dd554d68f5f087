"""E-wallet gateways: the interface the services use, and the sandbox provider's HTTP client."""
