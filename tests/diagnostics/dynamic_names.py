import faust

NAME = "orders"
app = faust.App(NAME)  # E: FC105 App id must be a string literal
orders = app.topic(NAME, value_type=str)  # E: FC104 topic names must be string literals
counts = app.Table(f"{NAME}-counts", default=int)  # E: FC104 table names must be string literals
