"""Demand forecasting for a grocery chain, as an MLflow project.

Pure (no tracking store): ``dataset`` (generator, split), ``validation`` (a user's table's rules),
``feature_columns``, ``features``, ``modeling``, the forecasting modules (``frequency``,
``roles``, ``backtest``, ``scoring``, ``intervals``, ``baseline_forecasts``, ``forecaster``,
``evaluation``), ``gate`` (the champion gate's rules), ``plots``, ``model_inputs`` (predict's
input checks), ``tables`` (.csv and .parquet files), ``parameters`` (the pipeline's parameters,
checked before any run), ``liveness``, ``cpus`` and ``trusted_clone`` (a run's process, the
CPUs, the repositories reproduce may clone).

MLflow-facing: ``orchestration`` (how `main` runs the steps), ``tracking`` (experiments, what
runs record), ``step_run`` (a step's run and its record), ``cache`` and ``provenance`` (the step
cache), ``experiments`` (the experiment rule), ``prepared`` (prepare's data for train),
``own_data`` (reading a user's table), ``training`` (its ``log_*`` functions; ``fit`` and
``evaluate`` are pure), ``signature``, ``logged_forecaster``, ``forecaster_model`` and
``trained_record`` (the logged model and what a train run logs with it), ``model_trust`` (a
version's files checked before it loads), ``registry`` (versions, aliases, the gate),
``lineage`` (a version's chain) and ``reproduce``.

Used by all: ``config`` (catalog.yaml, typed), ``names`` (tag keys, aliases, naming rules),
``errors``, ``uris``, ``console``.
"""
