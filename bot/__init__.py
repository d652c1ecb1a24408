"""The application: configuration, storage, feeds, scheduling, delivery and the CLI."""

__version__ = "0.1.0"
