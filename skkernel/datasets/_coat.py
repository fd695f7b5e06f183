"""Coat shopping ratings (Schnabel et al. 2016), shipped with the package."""

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

N_USERS, N_ITEMS = 290, 300


def load_coat(*, as_sparse=False):
    """Load the Coat ratings: 290 users x 300 coats, ratings 1 to 5.

    Each user rated 24 coats of their own choosing (missing not at random:
    the training ratings) and 16 coats drawn uniformly at random (missing at
    random: the test ratings), the data of Schnabel et al. [1]_ for debiased
    recommendation. It ships inside skkernel, so nothing is downloaded.
    Provenance: ``skkernel/datasets/data/COAT_PROVENANCE.md``.

    Parameters
    ----------
    as_sparse : bool, default=False
        Return the rating matrices as ``scipy.sparse.csr_matrix`` whose stored
        entries are the ratings (for ``observed="stored"``) instead of dense
        arrays with NaN where a user did not rate.

    Returns
    -------
    data : Bunch
        Dictionary-like object with attributes:

        train : ndarray or csr_matrix of shape (290, 300)
            The 6,960 self-selected ratings, NaN (or not stored) elsewhere.
        test : ndarray or csr_matrix of shape (290, 300)
            The 4,640 randomly assigned ratings, NaN (or not stored) elsewhere.
        user_features, item_features : ndarray of shape (290, 14), (300, 33)
            One-hot user attributes (gender, age, location, fashion interest)
            and coat attributes (gender, jacket type, colour, on front page).
        user_feature_names, item_feature_names : ndarray of str
            Their column names (``"gender:men"``...).
        user_embedding, item_embedding : ndarray of shape (290, 4), (300, 4)
            Pretrained 4-dimensional matrix-factorisation embeddings (an MF-IPS
            model, shipped by the kernel-balancing authors): the features on
            which that paper evaluates its balancing kernels.
        DESCR : str
            Description and provenance.

    References
    ----------
    .. [1] T. Schnabel, A. Swaminathan, A. Singh, N. Chandak and T. Joachims,
       "Recommendations as treatments: debiasing learning and evaluation",
       ICML 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.datasets import load_coat
    >>> coat = load_coat()
    >>> coat.train.shape, int(np.isfinite(coat.train).sum()), int(
    ...     np.isfinite(coat.test).sum())
    ((290, 300), 6960, 4640)
    """
    import scipy.sparse as sp

    folder = resources.files("skkernel.datasets") / "data"
    with (folder / "coat.npz").open("rb") as fh:
        arrays = dict(np.load(fh))
    descr = (folder / "COAT_PROVENANCE.md").read_text()
    matrices = {}
    for part in ("train", "test"):
        users = arrays[f"{part}_user"].astype(np.int64)
        items = arrays[f"{part}_item"].astype(np.int64)
        ratings = arrays[f"{part}_rating"].astype(np.float64)
        if as_sparse:
            matrices[part] = sp.csr_matrix((ratings, (users, items)),
                                           shape=(N_USERS, N_ITEMS))
        else:
            dense = np.full((N_USERS, N_ITEMS), np.nan)
            dense[users, items] = ratings
            matrices[part] = dense
    with (folder / "coat_side.npz").open("rb") as fh:
        side = dict(np.load(fh))
    return Bunch(train=matrices["train"], test=matrices["test"],
                 user_features=side["user_features"].astype(np.float64),
                 item_features=side["item_features"].astype(np.float64),
                 user_feature_names=side["user_feature_names"].astype(object),
                 item_feature_names=side["item_feature_names"].astype(object),
                 user_embedding=side["user_embedding"].astype(np.float64),
                 item_embedding=side["item_embedding"].astype(np.float64),
                 DESCR=descr)
