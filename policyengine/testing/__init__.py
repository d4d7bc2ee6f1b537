"""Test doubles of AWS for policyengine's tests and the offline demo.

``ImageBuilderEndpoint`` and ``Faults`` are imported on first use, so that
``python -m policyengine.testing.endpoint`` does not import the module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .endpoint import Faults, ImageBuilderEndpoint

__all__ = ["Faults", "ImageBuilderEndpoint"]


def __getattr__(name: str) -> Any:
    """``ImageBuilderEndpoint`` or ``Faults``, imported on first use."""
    if name in __all__:
        from . import endpoint

        return getattr(endpoint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
