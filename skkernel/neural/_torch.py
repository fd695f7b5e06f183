"""Lazy access to PyTorch: skkernel imports without it, a fit names the extra."""

import difflib
import inspect

TORCH_MISSING = (
    "skkernel.neural needs PyTorch, which is not installed. Install the "
    "'neural' extra: pip install 'skkernel[neural]' (it pins torch==2.13.0; "
    "that wheel is the CPU build)."
)


def import_torch():
    """Return the ``torch`` module, or raise an ImportError naming the extra."""
    try:
        import torch
    except ImportError as error:  # pragma: no cover - CI installs the extra
        raise ImportError(TORCH_MISSING) from error
    return torch


def resolve_device(device, owner):
    """Check that ``device`` names a torch device that exists here.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``...
    owner : str
        The estimator's class name, for the message.

    Returns
    -------
    device : torch.device
    """
    torch = import_torch()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"The 'device' parameter of {owner} must be a torch device such as "
            f"'cpu', 'cuda' or 'cuda:0'. Got {device!r} instead."
        ) from error
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = 0 if dev.index is None else dev.index
        if index >= count:
            raise ValueError(
                f"device={device!r} does not exist: torch sees {count} CUDA "
                f"device(s) (torch.cuda.is_available() is "
                f"{torch.cuda.is_available()}). Use device='cpu'."
            )
        dev = torch.device("cuda", index)
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(
                f"device={device!r} does not exist: torch.backends.mps is not "
                "available on this machine. Use device='cpu'."
            )
    elif dev.type != "cpu":
        raise ValueError(
            f"The 'device' parameter of {owner} must be 'cpu', 'cuda[:index]' or "
            f"'mps'. Got {device!r} instead."
        )
    return dev


def build_with_kwargs(factory, kwargs, parameter, fill=None):
    """Call ``factory(**kwargs)`` after checking the keys against its signature.

    A key the factory does not take raises a ValueError naming ``parameter``
    and the closest valid key ("did you mean"). ``fill`` gives values for
    arguments the factory takes but the user did not set (for example
    ``n_features_in`` from the data).
    """
    kwargs = dict(kwargs or {})
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature
        signature = None
    if signature is not None:
        params = signature.parameters
        open_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        if not open_kwargs:
            accepted = [name for name, p in params.items()
                        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            for key in kwargs:
                if key not in accepted:
                    close = difflib.get_close_matches(key, accepted, n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    name = getattr(factory, "__name__", type(factory).__name__)
                    raise ValueError(
                        f"{parameter} has {key!r}, which {name} does not take"
                        f"{hint} It takes: {accepted}."
                    )
        for key, value in (fill or {}).items():
            if key in params and key not in kwargs:
                kwargs[key] = value
    return factory(**kwargs)
