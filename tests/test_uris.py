"""grocery.uris: addresses fit to print, without credentials."""

from grocery.uris import public_uri, tracking_uri_for_humans


def test_credentials_are_removed_and_everything_else_kept():
    assert public_uri("http://alice:s3cr3t@127.0.0.1:5000/a?b=1") == "http://127.0.0.1:5000/a?b=1"
    assert public_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


def test_tracking_uri_for_humans_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://bob:pw@mlflow.example:8443")
    assert tracking_uri_for_humans() == "https://mlflow.example:8443"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking_uri_for_humans() == "sqlite:///mlflow.db"
