from shop.app import faust_app
from shop.models import Receipt
from shop.tables import spent
from shop.topics import orders_topic, receipts_topic


@faust_app.agent(orders_topic)
async def take_payment(orders):
    async for order in orders:
        spent[order.customer] += order.amount
        receipt = Receipt(order_id=order.id, customer=order.customer,
                          spent_so_far=spent[order.customer])
        await receipts_topic.send(key=order.customer, value=receipt)
