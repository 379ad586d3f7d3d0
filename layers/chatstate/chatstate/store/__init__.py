"""Session stores: the port, the DynamoDB adapter and the in-memory twin."""
