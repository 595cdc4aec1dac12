function handle(event)
  local order = backend.get("orders", event.orderId)
  if not order then error("no order " .. tostring(event.orderId)) end
  local msg = backend.webhooks.emit("order.shipped", function(version)
    if version >= 2 then
      return {order = {id = order._id, carrier = order.carrier, tracking = order.tracking}}
    end
    return {order_id = order._id, tracking_number = order.tracking}
  end)
  local partner = backend.env("PARTNER_URL")
  if partner then
    backend.webhooks.send(partner, {event = "order.shipped", order_id = order._id},
      {secret = backend.env("PARTNER_SECRET"), headers = {["X-Shop"] = "moonbase-demo"}})
  end
  backend.update("orders", order._id, {shipped_message = msg.id, notified_endpoints = msg.deliveries})
  return msg
end
