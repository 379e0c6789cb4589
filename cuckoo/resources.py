"""The files cuckoo ships besides its code: the Alembic migrations, the sample scenarios, the
voice profiles and the commented sample cuckoo.toml. The one place that knows where they are.

In a source checkout (or an editable install) they are the top-level folders next to the
package: migrations/, scenarios/, voices/, cuckoo.toml. A wheel carries them inside the
package, as cuckoo/_shipped/<name> (setup.py's build step copies them there), because an
installed package has no "next to it".
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from cuckoo.errors import ConfigError

Shipped = Literal["migrations", "scenarios", "voices", "cuckoo.toml"]
SHIPPED: tuple[Shipped, ...] = ("migrations", "scenarios", "voices", "cuckoo.toml")
PACKAGED_DIR = "_shipped"  # inside the cuckoo package, in a wheel


def shipped(name: Shipped) -> Path:
    """The real path of a shipped file or folder: inside the installed package, else in the
    source tree. Raises ConfigError naming both places when it is in neither."""
    if name not in SHIPPED:
        raise ValueError(f"{name!r} is not shipped with cuckoo (one of {', '.join(SHIPPED)})")
    # Alembic and the loaders want real paths: a package imported from a zip has none.
    package = Path(str(files("cuckoo")))
    candidates = (package / PACKAGED_DIR / name, package.parent / name)
    for path in candidates:
        if path.exists():
            return path
    raise ConfigError(
        f"{name} not found in {candidates[0]} (an installed wheel) nor in {candidates[1]} "
        "(a source checkout): reinstall cuckoo"
    )
