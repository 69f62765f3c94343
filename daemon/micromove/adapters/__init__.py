"""Adapters behind the core's ports: input sources, the notifier, the store, the clock."""
