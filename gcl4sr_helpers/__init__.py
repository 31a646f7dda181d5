"""Engine of the GCL4SR course kit: data, graph utilities, sampler, model, trainer, checks.

Students import from here; nothing in this package implements the notebook's TODOs.
"""

import warnings

warnings.filterwarnings("ignore", module=r"torch_geometric(\..*)?")

__version__ = "0.1.0"
