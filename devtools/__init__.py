"""Developer tooling: DynamoDB Local, template readers and the Docker-free local run (not deployed)."""
