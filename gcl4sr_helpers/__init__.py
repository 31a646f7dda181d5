"""Engine of the GCL4SR course kit: data, graph utilities, sampler, model, trainer, checks.

Students import from here; nothing in this package implements the notebook's TODOs.
"""

import os
import warnings

# PyTorch's OpenMP runtime (libgomp) reads its wait policy once, when torch is first imported.
# Its default spins each idle thread 300,000 times at every barrier: beside busy neighbours
# on 2 cores a step took 2.5-5x as long as with PASSIVE threads, which sleep at once
# (bench/README.md, "Contention"). An explicit OMP_WAIT_POLICY is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

warnings.filterwarnings("ignore", module=r"torch_geometric(\..*)?")

__version__ = "0.1.0"
