from shop.app import faust_app
from shop.models import Order, Receipt

orders_topic = faust_app.topic('shop-orders', key_type=str, value_type=Order)
receipts_topic = faust_app.topic('shop-receipts', key_type=str, value_type=Receipt)
