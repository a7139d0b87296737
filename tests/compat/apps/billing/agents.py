from billing.app import app, invoices_topic, reminders_topic


@app.agent(invoices_topic)
async def remind(invoices):
    async for invoice in invoices:
        if not invoice['paid']:
            await reminders_topic.send(value=f"pay invoice {invoice['number']}")
