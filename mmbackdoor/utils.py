"""Small helpers shared by both halves of the package."""
import importlib.util


def is_installed(package: str) -> bool:
    """Whether ``package`` can be imported (without importing it)."""
    return importlib.util.find_spec(package) is not None
