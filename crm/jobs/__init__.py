"""The scheduler and its jobs: plain functions that call services, each in its own app context."""
