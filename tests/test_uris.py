"""grocery.uris: addresses and texts fit to print or store, without credentials."""

from grocery.uris import public_location, public_uri, scrub, tracking_uri_for_humans


def test_credentials_are_removed_and_everything_else_kept():
    assert public_uri("http://alice:s3cr3t@127.0.0.1:5000/a?b=1") == "http://127.0.0.1:5000/a?b=1"
    assert public_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


def test_tracking_uri_for_humans_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://bob:pw@mlflow.example:8443")
    assert tracking_uri_for_humans() == "https://mlflow.example:8443"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking_uri_for_humans() == "sqlite:///mlflow.db"


def test_scrub_removes_userinfo_query_secrets_and_authorization_headers():
    text = ("API request to http://alice:s3cr3t-token@127.0.0.1:5000/api/2.0/mlflow/runs/get"
            "?run_id=abc failed; headers {'Authorization': 'Basic YWxpY2U6czNjcjN0'}; "
            "https://b.example/sales.csv?X-Amz-Credential=AKIA&X-Amz-Signature=s3cr3t-sig"
            "&sv=2024&sig=azure-sig&access_token=tok&expires=9 Authorization: Bearer abc.def")
    assert scrub(text) == (
        "API request to http://127.0.0.1:5000/api/2.0/mlflow/runs/get?run_id=abc failed; "
        "headers {'Authorization': 'Basic ***'}; https://b.example/sales.csv?"
        "X-Amz-Credential=***&X-Amz-Signature=***&sv=2024&sig=***&access_token=***&expires=9 "
        "Authorization: Bearer ***")
    assert scrub("postgresql+psycopg2://mlflow:pw@db:5432/mlflow") == \
        "postgresql+psycopg2://db:5432/mlflow"
    plain = "sourdough.csv: no such file (looked for /tmp/x/sourdough.csv)"
    assert scrub(plain) == plain


def test_public_location_keeps_where_and_drops_how():
    signed = "https://bob:pw@bucket.example:9000/sales/2024.csv?X-Amz-Signature=s3cr3t#top"
    assert public_location(signed) == "https://bucket.example:9000/sales/2024.csv"
    for kept in ("/tmp/sales.csv", "sales.csv", "runs:/abc/data/sales.csv",
                 "file:///tmp/sales.csv", "C:\\data\\sales.csv"):
        assert public_location(kept) == kept
