"""grocery.console: the plain-text tables the steps print."""

from grocery.console import text_table


def test_columns_are_aligned_under_a_rule():
    table = text_table(("product", "rmse"), [("milk", "126.61"), ("cheese", 31)]).splitlines()
    assert table == [
        "product  rmse",
        "-------  ------",
        "milk     126.61",
        "cheese   31",
    ]
