"""Linear models: sketched least squares, l_p regression, DPP weighted least squares."""

from ._dpp_wls import DPPWeightedLeastSquares
from ._lewis import LewisWeightRegression
from ._sketched import SketchedLinearRegression

__all__ = [
    "DPPWeightedLeastSquares",
    "LewisWeightRegression",
    "SketchedLinearRegression",
]
