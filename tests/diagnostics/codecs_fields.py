import faust

app = faust.App("diag-codecs")


class Point:
    x: int


class Reading(faust.Record):
    sensor: str
    where: Point  # E: FC110 cannot carry Point
    history: list[Point]  # E: FC110 cannot carry Point


class Raw(faust.Record):
    text: str


readings = app.topic("readings", value_type=Reading)
raw = app.topic("raw", value_type=Raw, value_serializer="raw")  # E: FC110 raw codec
