"""Linear models: sketched least squares, l_p regression, DPP weighted least squares."""

__all__ = []
