import faust

app = faust.App("diag-syntax")
orders = app.topic("orders" value_type=str)  # E: FC001 invalid syntax
