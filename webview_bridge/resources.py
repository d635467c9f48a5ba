"""Where the shipped templates and static files are: inside the installed package (wheel),
or at the top of a source checkout (editable install, tests)."""

from pathlib import Path

_PACKAGE = Path(__file__).parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"the {name}/ folder is missing from this installation")


TEMPLATES_DIR = _find("templates")
STATIC_DIR = _find("static")
