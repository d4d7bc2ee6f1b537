"""Test doubles of AWS for policyengine's tests and the offline demo.

``ImageBuilderEndpoint`` is imported on first use, so that
``python -m policyengine.testing.endpoint`` does not import the module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .endpoint import ImageBuilderEndpoint

__all__ = ["ImageBuilderEndpoint"]


def __getattr__(name: str) -> Any:
    """``ImageBuilderEndpoint``, imported on first use."""
    if name == "ImageBuilderEndpoint":
        from .endpoint import ImageBuilderEndpoint

        return ImageBuilderEndpoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
