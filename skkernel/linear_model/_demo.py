"""Linear models' rows in ``skkernel demo``."""

from ..utils._demo import DemoCase


def _dpp_wls_runge(backend):
    import numpy as np

    from ..dpp import LegendreBasis
    from . import DPPWeightedLeastSquares

    def runge(X):
        return 1.0 / (1.0 + 25.0 * X[:, 0] ** 2)

    # m = 20 Legendre polynomials, n = 4m points of a repeated DPP: the
    # reproduction setting of Nouy and Michel's experiments (our table).
    model = DPPWeightedLeastSquares(degree=19, n_samples=80, random_state=0,
                                    backend=backend).fit_function(runge)
    x, w = np.polynomial.legendre.leggauss(400)
    X, w = x[:, None], w / 2
    Phi = LegendreBasis(degree=19).evaluate(X)
    best = np.sum(w * (runge(X) - Phi @ (Phi.T @ (w * runge(X)))) ** 2)
    return float(np.sum(w * (runge(X) - model.predict(X)) ** 2) / best)


def demo_cases():
    return [
        DemoCase("DPPWeightedLeastSquares", "Runge function, Legendre m=20, n=4m",
                 "L2 error / best", _dpp_wls_runge),
    ]
