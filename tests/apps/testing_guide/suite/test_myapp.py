from myapp import Order, orders_for_account, track_order


async def test_counts_orders_per_account(app, shipped, warehouse):
    async with track_order.test_context() as agent:
        await agent.put(Order(account_id='A', amount=1))
        assert orders_for_account['A'] == 1

        await agent.put(Order(account_id='A', amount=2))
        assert orders_for_account['A'] == 2


async def test_notifies_warehouse(app, shipped, warehouse):
    async with track_order.test_context() as agent:
        order = Order(account_id='B', amount=3)
        await agent.put(order)
        warehouse.assert_awaited_once_with(order)


async def test_forwards_to_shipped_topic(app, shipped, warehouse):
    async with track_order.test_context() as agent:
        order = Order(account_id='C', amount=4)
        await agent.put(order)
        shipped.assert_awaited_once_with(value=order)


async def test_results_records_input_values(app, shipped, warehouse):
    async with track_order.test_context() as agent:
        order = Order(account_id='D', amount=5)
        await agent.put(order)
        # For a sink-less agent ``results`` holds what went IN.
        assert agent.results[0] == order
