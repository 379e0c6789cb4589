"""cuckoo: an outbound notification robot."""

__version__ = "0.1.0"
