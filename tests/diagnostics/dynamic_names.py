import os
import sys

import faust

# names the compiler evaluates are fine: constants, f-strings of constants, the
# environment with a default (the worker reads it at run time); truly dynamic ones are not
NAME = "orders"
TABLE = "counts"
TABLE = "totals"  # bound twice: not a constant


def app_id() -> str:
    return sys.argv[0]


app = faust.App(app_id())  # E: FC105 the App id must be known when the worker is built
orders = app.topic(os.environ["ORDERS"], value_type=str)  # E: FC104 a topic name must be known
payments = app.topic(os.environ.get("PAYMENTS", f"{NAME}-payments"), value_type=str)
counts = app.Table(TABLE, default=int)  # E: FC104 a table name must be known
sums = app.Table(f"{NAME}-sums", default=int)
