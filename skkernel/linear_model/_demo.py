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


def _sketched_ill_conditioned(backend):
    import numpy as np
    import scipy.linalg

    from . import SketchedLinearRegression

    # cond(A) = 1e6, relative residual 1e-3: forward error of the default
    # solver ("auto": LSQR preconditioned by the Gram's Cholesky factor) vs gelsd.
    rng = np.random.default_rng(0)
    V, _ = np.linalg.qr(rng.standard_normal((100, 100)))
    A = (rng.standard_normal((10000, 100)) * np.logspace(0, -6, 100)) @ V.T
    b = A @ rng.standard_normal(100) + 1e-3 * rng.standard_normal(10000)
    x_ref = scipy.linalg.lstsq(A, b)[0]
    coef = SketchedLinearRegression(fit_intercept=False, random_state=0,
                                    backend=backend).fit(A, b).coef_
    return float(np.linalg.norm(coef - x_ref) / np.linalg.norm(x_ref))


def _lewis_l1(backend):
    import numpy as np
    from sklearn.linear_model import QuantileRegressor

    from . import LewisWeightRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 5))
    y = X @ np.arange(1.0, 6.0) + rng.standard_t(df=1.5, size=4000)
    exact = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    model = LewisWeightRegression(p=1, random_state=0, backend=backend).fit(X, y)
    return float(model.objective_ / np.abs(y - exact.predict(X)).sum())


def demo_cases():
    return [
        DemoCase("SketchedLinearRegression", "cond 1e6, 10000x100 (generated)",
                 "forward error vs gelsd", _sketched_ill_conditioned),
        DemoCase("LewisWeightRegression", "l1, 4000x5, t(1.5) noise (generated)",
                 "objective / LP optimum", _lewis_l1),
        DemoCase("DPPWeightedLeastSquares", "Runge function, Legendre m=20, n=4m",
                 "L2 error / best", _dpp_wls_runge),
    ]
