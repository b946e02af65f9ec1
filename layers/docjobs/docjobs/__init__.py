"""docjobs: an asynchronous jobs API for document AI."""

__version__ = "0.1.0"
