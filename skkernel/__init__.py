"""skkernel: kernel, sketching and embedding methods from recent papers.

scikit-learn-compatible estimators with a numpy reference implementation,
numba CPU kernels and cupy GPU kernels, selected by a ``backend`` parameter.
"""

from ._config import config_context, get_config, set_config
from ._show_versions import show_versions

__version__ = "0.1.0"

__all__ = ["__version__", "config_context", "get_config", "set_config", "show_versions"]
