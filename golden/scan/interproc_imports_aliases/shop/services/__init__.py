from .payments import charge

__all__ = ["charge"]
