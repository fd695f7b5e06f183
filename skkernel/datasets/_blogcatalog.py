"""BlogCatalog social network, shipped with the package."""

from importlib import resources

import numpy as np
import scipy.io
import scipy.sparse as sp
from sklearn.utils import Bunch


def load_blogcatalog():
    """Load the BlogCatalog graph (10,312 bloggers, 39 interest groups).

    The file is the FastRP authors' copy (GTmac/FastRP, MIT licence) of the
    network of Tang and Liu (KDD 2009); it ships inside skkernel, so nothing
    is downloaded. Provenance: ``skkernel/datasets/data/BLOGCATALOG_PROVENANCE.md``.

    Returns
    -------
    data : Bunch
        Dictionary-like object with attributes:

        adjacency : scipy.sparse.csr_matrix of shape (10312, 10312)
            Symmetric 0/1 adjacency, 667,966 stored entries (333,983 edges).
        target : scipy.sparse.csr_matrix of shape (10312, 39)
            Multi-label indicator matrix (14,476 memberships).
        target_names : ndarray of shape (39,)
            Group identifiers ``"group_0"`` ... ``"group_38"``.
        DESCR : str
            Description and provenance.

    Examples
    --------
    >>> from skkernel.datasets import load_blogcatalog
    >>> data = load_blogcatalog()
    >>> data.adjacency.shape, data.target.shape
    ((10312, 10312), (10312, 39))
    """
    folder = resources.files("skkernel.datasets") / "data"
    with (folder / "blogcatalog.mat").open("rb") as fh:
        mat = scipy.io.loadmat(fh)
    descr = (folder / "BLOGCATALOG_PROVENANCE.md").read_text()
    adjacency = sp.csr_matrix(mat["network"], dtype=np.float64)
    target = sp.csr_matrix(mat["group"], dtype=np.int64)
    return Bunch(
        adjacency=adjacency,
        target=target,
        target_names=np.array([f"group_{i}" for i in range(target.shape[1])]),
        DESCR=descr,
    )
