"""Sections of cuckoo.toml, one module each; cuckoo.config composes and loads them."""
