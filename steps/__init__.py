"""The entry points of MLproject: thin scripts that parse parameters, run, and log.

Every step process (``python -m steps.<name>``) imports this first, before NumPy or SciPy load
their OpenBLAS: one BLAS thread each, unless the user set another number. The matrices are small
(a ridge fit, an ETS optimiser's steps) and the work is already spread over processes (products,
chunks of series), so more BLAS threads only wait on each other: two processes fitting ETS at
once took 345 ms a fit with OpenBLAS's default threads, 40 ms with one (bench/blas_threads.py,
docs/benchmarks.md).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
