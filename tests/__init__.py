"""The project's tests. Their processes use one BLAS thread, as the steps do (steps/__init__.py):
two test workers running fits side by side on two cores would otherwise wait on each other's
BLAS threads."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
