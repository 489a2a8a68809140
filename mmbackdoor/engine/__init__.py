"""Hooks and loops (registered in mmengine's root ``HOOKS`` / ``LOOPS``)."""
from .hooks import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
