import faust


class Order(faust.Record, serializer='json'):
    id: str
    customer: str
    amount: float


class Receipt(faust.Record, serializer='json'):
    order_id: str
    customer: str
    spent_so_far: float
