"""Demand forecasting for a grocery chain: the pure parts of the pipeline.

Modules: ``catalog`` (products, experiments, tags), ``dataset`` (generate, split),
``modeling`` (estimators, metrics), ``errors`` (the user-facing error), and the MLflow-facing
``tracking`` and ``registry``.
"""
