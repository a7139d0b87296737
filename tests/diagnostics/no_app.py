import faust  # E: FC100 no `faust.App(...)`

topic = faust.Record
