"""Every name the project writes into MLflow, defined once: tag keys, aliases, step names and the
naming rules for experiments, registered models and runs.

MLflow's own tags are MLflow's constants; everything else here is ours. No other module spells
one of these strings.
"""

from __future__ import annotations

import re

from mlflow.utils.mlflow_tags import (
    MLFLOW_GIT_COMMIT,
    MLFLOW_GIT_REPO_URL,
    MLFLOW_PARENT_RUN_ID,
    MLFLOW_PROJECT_ENV,
    MLFLOW_RUN_NAME,
    MLFLOW_RUN_NOTE,
    MLFLOW_SOURCE_NAME,
)

# --- Experiment tags: the tutorial's, plus the product.
TAG_PROJECT = "project_name"
TAG_DEPARTMENT = "store_dept"
TAG_TEAM = "team"
TAG_QUARTER = "project_quarter"
TAG_PRODUCT = "product"
TAG_NOTE = MLFLOW_RUN_NOTE  # the description the UI shows, for experiments and runs alike
TAG_SCRATCH = "grocery.scratch"  # an experiment outside the catalog (reproductions)

# --- The experiment rule (grocery/experiments.py): what an experiment's runs share, and where
# a pipeline's parent run records the experiment its steps went to, and why.
TAG_EXPERIMENT_SCHEMA = "grocery.data_schema"
TAG_EXPERIMENT_SCHEMA_DIGEST = "grocery.data_schema_digest"
TAG_EXPERIMENT_FAMILY = "grocery.model_family"
TAG_EXPERIMENT_CHOSEN = "grocery.experiment"
TAG_EXPERIMENT_REASON = "grocery.experiment_reason"

# --- Every step run.
TAG_STEP = "grocery.step"
TAG_ERROR = "grocery.error"
# The process that ends a run (grocery/liveness.py), so a later one can tell it died.
TAG_PROCESS = "grocery.process"
TAG_CODE_DIGEST = "grocery.code_digest"
TAG_GIT_DIRTY = "grocery.git.dirty"
TAG_GIT_REPO = "grocery.git.repo"
TAG_GIT_COMMIT = MLFLOW_GIT_COMMIT
TAG_GIT_REPO_URL = MLFLOW_GIT_REPO_URL
TAG_ENV = MLFLOW_PROJECT_ENV
TAG_PARENT_RUN = MLFLOW_PARENT_RUN_ID
TAG_RUN_NAME = MLFLOW_RUN_NAME
TAG_SOURCE_NAME = MLFLOW_SOURCE_NAME
TAG_DATASET_CONTEXT = "mlflow.data.context"  # on a run's dataset inputs

# --- prepare and train: where the data came from, what the model is.
TAG_DATA_DIGEST = "data_digest"
TAG_DATA_SOURCE = "data_source"
TAG_TARGET = "target"
TAG_DATE_COLUMN = "date_column"
TAG_PREPARE_RUN = "prepare_run_id"
TAG_TRAIN_RUN = "train_run_id"
TAG_REGISTER_RUN = "register_run_id"
TAG_MODEL_URI = "model_uri"
TAG_MODEL_FAMILY = "model_family"
TAG_HYPERPARAMETERS = "grocery.hyperparameters"
# --- The forecast task: column roles, frequency, strategy, and how the run was judged.
TAG_KNOWN_AHEAD = "grocery.known_ahead"
TAG_OBSERVED = "grocery.observed"
TAG_TARGET_LAGS = "grocery.target_lags"
TAG_FREQUENCY = "grocery.frequency"
TAG_FORECAST_STRATEGY = "grocery.forecast_strategy"
TAG_EVALUATION = "grocery.evaluation"
# --- Many series per product (grocery/series.py): the key columns, how the model pools them,
# and the series the backtest scored worst.
TAG_SERIES = "grocery.series"
TAG_SERIES_MODEL = "grocery.series_model"
TAG_WORST_SERIES = "grocery.worst_series"

# --- The step cache (grocery/cache.py).
TAG_CACHE_KEY = "grocery.cache.key"
# What a cached step produced, as the next step's input digest: prepare's data digest, train's
# own key (the same data, code and parameters give the same model), register's model version.
TAG_CACHE_OUTPUT = "grocery.cache.output"

# --- The registry: versions, aliases and the champion gate.
ALIAS_CHAMPION = "champion"
ALIAS_CHALLENGER = "challenger"
TAG_REGISTERED_MODEL = "registered_model"
TAG_MODEL_VERSION = "model_version"
TAG_MODEL_REFERENCE = "model_reference"
TAG_ALIAS = "alias"
TAG_ALIAS_REASON = "alias_reason"
TAG_VERSION_COMMIT = "git_commit"  # a version's copy of its train run's commit
TAG_GATE_DECISION = "gate_decision"
TAG_GATE_REASON = "gate_reason"
TAG_GATE_THRESHOLDS = "gate_thresholds"
TAG_GATE_PASSED_OVER = "gate_passed_over"
TAG_CHAMPION_VERSION = "champion_version"

# --- reproduce.
TAG_REPRODUCE_RUN = "reproduce.run_id"
TAG_REPRODUCE_MODEL = "reproduce.model"
TAG_REPRODUCE_COMMIT = "reproduce.commit"
TAG_REPRODUCE_EQUAL = "reproduce.equal"

# --- Artifacts of a logged forecaster (grocery/logged_forecaster.py, forecaster_model.py).
ESTIMATOR_ARTIFACT = "estimator"  # the skops file of the fitted feature steps and estimator


def product_model_tag(product: str) -> str:
    """A department's predict run's tag holding one product's version URI, e.g.
    ``model_uri.milk``."""
    return f"{TAG_MODEL_URI}.{product}"


def logged_model_name(product: str, model: str) -> str:
    """A logged forecaster's name: what it forecasts and which catalog model, e.g.
    ``apples-ridge`` (``mlflow.search_logged_models`` lists models by it)."""
    return f"{product}-{model}"


# --- Forecast strategies (grocery/forecaster.py; catalog.yaml's forecast_strategy, the tag
# grocery.forecast_strategy): one model per step ahead, or one model fed its own forecasts.
DIRECT, RECURSIVE = "direct", "recursive"
STRATEGIES = (DIRECT, RECURSIVE)
# --- How a product's many series are modelled (-P series_model): one model across every
# series, or one model per series.
GLOBAL, PER_SERIES = "global", "per_series"
SERIES_MODELS = (GLOBAL, PER_SERIES)
# --- Where per-series and per-fold work runs (-P engine, grocery/engines.py).
LOCAL, RAY = "local", "ray"
ENGINES = (LOCAL, RAY)

# --- Metric names: the scores the champion gate compares (grocery/evaluation.py computes them),
# and the prefix a train run's backtest scores take on the tutorial's random split.
SCORES = ("mae", "mse", "rmse", "r2", "mase", "rmsse")
BACKTEST_PREFIX = "backtest_"

# --- Steps and the runs that hold them.
PREPARE, TRAIN, REGISTER = "prepare", "train", "register"
STEPS = (PREPARE, TRAIN, REGISTER)
# Entry points that read a registered model; their runs carry these as `grocery.step`.
PREDICT, LINEAGE = "predict", "lineage"
# The entry point that checks a version is what the package writes (grocery/model_trust.py).
VERIFY = "verify"
# A product's pipeline: its parent run, the `pipeline` entry point, the `grocery.step` value.
PIPELINE = "pipeline"
ALL_PRODUCTS = "all"
REGISTERED_MODEL_PREFIX = "grocery-forecasting-"


def step_run_tag(step: str) -> str:
    """The parent-run tag that holds a step's run id."""
    return f"step.{step}.run_id"


def step_cached_tag(step: str) -> str:
    """The parent-run tag that says whether a step was reused from the cache."""
    return f"step.{step}.cached"


def pipeline_tag(product: str) -> str:
    """The launcher-run tag that names the parent run of a product's pipeline."""
    return f"pipeline.{product}"


def run_name(product: str, step: str) -> str:
    """A step's run name, e.g. ``milk-train``; ``milk-pipeline`` for the parent run."""
    return f"{product}-{step}"


def registered_model_name(product: str) -> str:
    """The Model Registry name of a product's model."""
    return f"{REGISTERED_MODEL_PREFIX}{product}"


def experiment_name_for(product: str) -> str:
    """The experiment of a product outside the catalog: ``oat-milk`` -> ``Oat_Milk_Models``."""
    return "_".join(part.capitalize() for part in re.split(r"[-_]", product)) + "_Models"


def reproduce_experiment(model_name: str) -> str:
    """The scratch experiment that holds reproductions of a registered model's versions."""
    return f"reproduce-{model_name}"


def reproduce_run_name(model_name: str, version: str) -> str:
    return f"reproduce-{model_name}-v{version}"
