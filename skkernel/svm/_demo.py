"""QuantumKernelSVC's rows in ``skkernel demo``."""

from ..utils._demo import DemoCase


def _ad_hoc_accuracy(backend, shots):
    from ..datasets import make_ad_hoc
    from . import QuantumKernelSVC

    # The paper's setting: 2 qubits, gap 0.3, 20 training and 5 test points
    # per class; the paper reports perfect test accuracy.
    X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, n_qubits=2, gap=0.3,
                                                   random_state=0)
    clf = QuantumKernelSVC(shots=shots, random_state=0, backend=backend)
    return clf.fit(X_train, y_train).score(X_test, y_test)


def _ad_hoc_three_qubits(backend):
    from ..datasets import make_ad_hoc
    from . import QuantumKernelSVC

    X_train, y_train, X_test, y_test = make_ad_hoc(50, 50, n_qubits=3, gap=0.3,
                                                   random_state=0)
    clf = QuantumKernelSVC(random_state=0, backend=backend)
    return clf.fit(X_train, y_train).score(X_test, y_test)


def demo_cases():
    return [
        DemoCase("QuantumKernelSVC", "ad hoc, 2 qubits, exact kernel",
                 "test accuracy", lambda backend: _ad_hoc_accuracy(backend, None)),
        DemoCase("QuantumKernelSVC", "ad hoc, 2 qubits, 1024 shots",
                 "test accuracy", lambda backend: _ad_hoc_accuracy(backend, 1024)),
        DemoCase("QuantumKernelSVC", "ad hoc, 3 qubits, exact kernel",
                 "test accuracy", _ad_hoc_three_qubits),
    ]
