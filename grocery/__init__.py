"""Demand forecasting for a grocery chain, as an MLflow project.

Pure data science (no MLflow): ``catalog`` (products, experiments, tags, settings), ``dataset``
(generator, split), ``validation`` (a user's own table), ``features``, ``modeling``,
``baselines``, ``plots``, ``forecast`` (input checks for predict), ``errors``, ``uris``.

MLflow-facing: ``tracking`` (experiments, step runs), ``signature``, ``artifacts`` and
``dataset_source`` (prepared data), ``cache`` and ``provenance`` (the step cache),
``pipeline`` (running steps), ``registry`` and ``registered`` (versions, aliases, the champion
gate), ``experiments`` (the experiment rule), ``reproduce`` and ``lineage``.
"""
