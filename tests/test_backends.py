"""Backend resolution, configuration, numba threads and the shared hash RNG."""

import threading

import numba
import numpy as np
import pytest

import skkernel
from skkernel.backend import (
    _backend,
    available_backends,
    get_array_module,
    numba_threads,
    resolve_backend,
    to_cpu,
    to_device,
)
from skkernel.utils._hash_random import hash_uniform, hash_uniform_scalar


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_explicit_cpu_backends_resolve_to_themselves(name):
    assert resolve_backend(name, np.ones(3)) == name


def test_auto_is_numba_for_cpu_input():
    assert resolve_backend("auto", np.ones(3)) == "numba"


@pytest.mark.parametrize("bad", ["gpu", "Numba", None, 3])
def test_unknown_backend_names_the_options(bad):
    with pytest.raises(ValueError, match=r"backend must be one of \['auto', 'numpy'"):
        resolve_backend(bad)


def test_cupy_without_gpu_raises_with_install_hint(monkeypatch):
    monkeypatch.setattr(_backend, "_cupy_usable", lambda: False)
    with pytest.raises(RuntimeError, match=r'pip install "skkernel\[cuda12\]"'):
        resolve_backend("cupy")
    assert "cupy" not in available_backends()


def test_config_context_changes_auto_and_restores():
    assert skkernel.get_config()["backend"] == "auto"
    with skkernel.config_context(backend="numpy", working_memory=64):
        assert resolve_backend("auto") == "numpy"
        assert resolve_backend("numba") == "numba"  # explicit wins
        assert skkernel.get_config()["working_memory"] == 64
    assert skkernel.get_config() == {"backend": "auto", "working_memory": 1024}


def test_config_is_thread_local():
    seen = {}

    def other_thread():
        seen["backend"] = skkernel.get_config()["backend"]

    with skkernel.config_context(backend="numpy"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen["backend"] == "auto"


@pytest.mark.parametrize(
    "kwargs, match",
    [({"backend": "tpu"}, "backend must be one of"),
     ({"working_memory": -1}, "working_memory must be a positive number of MiB")],
)
def test_set_config_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        skkernel.set_config(**kwargs)
    assert skkernel.get_config()["backend"] == "auto"


@pytest.mark.parametrize("n_jobs, expected", [(1, 1), (-1, None), (10_000, None)])
def test_numba_threads_sets_and_restores(n_jobs, expected):
    before = numba.get_num_threads()
    maximum = numba.config.NUMBA_NUM_THREADS
    with numba_threads(n_jobs) as n_threads:
        assert numba.get_num_threads() == n_threads
        assert n_threads == (expected if expected is not None else maximum)
    assert numba.get_num_threads() == before


def test_numba_threads_restores_after_error():
    before = numba.get_num_threads()
    with pytest.raises(KeyError), numba_threads(1):
        raise KeyError("boom")
    assert numba.get_num_threads() == before


def test_array_module_and_transfers_on_cpu():
    xp, xsp = get_array_module("numba")
    assert xp is np and xsp.__name__ == "scipy.sparse"
    a = np.arange(3.0)
    assert to_device(a, "numpy") is a
    assert to_cpu(a) is a


def test_hash_rng_numba_matches_numpy_bitwise():
    index = np.arange(0, 10_000, 7, dtype=np.int64)
    for seed in (0, 1, 2**63 + 5, 2**64 - 1):
        expected = hash_uniform(seed, index)
        got = np.array([hash_uniform_scalar(np.uint64(seed), i) for i in index])
        np.testing.assert_array_equal(got, expected)


def test_hash_rng_is_uniform():
    u = hash_uniform(123, np.arange(200_000))
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    # Chi-square with 19 degrees of freedom: 43.8 is its 0.999 quantile.
    expected = u.size / 20
    assert ((counts - expected) ** 2 / expected).sum() < 43.8
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


@pytest.mark.gpu
def test_hash_rng_cupy_matches_numpy():
    import cupy

    index = np.arange(5000)
    np.testing.assert_array_equal(
        hash_uniform(99, cupy.asarray(index), xp=cupy).get(), hash_uniform(99, index)
    )


def test_jit_compiles_functions_without_a_source_file_uncached():
    # A function typed at a prompt (or in a doctest) has no file for numba's
    # disk cache: jit compiles it without the cache instead of raising.
    from skkernel.backend import jit
    from skkernel.backend._numba import _has_source_file

    namespace = {}
    exec("def add(a, b):\n    return a + b\n", namespace)
    assert not _has_source_file(namespace["add"])
    assert _has_source_file(test_jit_compiles_functions_without_a_source_file_uncached)
    assert jit(namespace["add"])(1, 2) == 3
    assert jit(parallel=False)(namespace["add"])(2.5, 1.0) == 3.5
