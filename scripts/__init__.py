"""Scripts around the project: pictures of the MLflow UI for the docs."""
