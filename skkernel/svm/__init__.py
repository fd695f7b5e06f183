"""Support vector machines on quantum kernels."""

from ._quantum_svc import QuantumKernelSVC

__all__ = ["QuantumKernelSVC"]
