-- processOrder handles order_placed. The event's data is the app's
-- ({orderId = 123}) plus event.user, the signed-in user who published it,
-- set by the server.
--
-- The order ({orderId, items = {{sku, qty, price}}, status = "placed"},
-- saved by the app in "orders") is confirmed when every item is in stock:
-- each item's stock in "inventory" goes down, the order becomes
-- "confirmed" and the customer gets a confirmation. Otherwise it becomes
-- "rejected" and the customer is told.
--
-- At-least-once delivery, made safe: the order goes from "placed" to
-- "reserving" (stock checked) to "confirmed" (everything done), so a
-- second event for the same order does nothing, and a retry of this one
-- resumes after the stock check; each stock change and the email are
-- guarded by backend.once keyed by the event (ctx.id), so no step happens
-- twice.
local function total(order)
  local sum = 0
  for _, item in ipairs(order.items) do sum = sum + item.qty * (item.price or 0) end
  return sum
end

function handle(event, ctx)
  local order = backend.findOne("orders", {orderId = event.orderId})
  if not order then
    -- Retried with backoff: the app may publish before its write is seen.
    error("order " .. tostring(event.orderId) .. " not found")
  end
  -- "reserving" by this very event means an earlier attempt got past the
  -- stock check and failed later: carry on where it stopped.
  local resuming = order.status == "reserving" and order.eventId == ctx.id
  if order.status ~= "placed" and not resuming then
    return {orderId = order.orderId, skipped = order.status}
  end
  local email = event.user and event.user.email

  if not resuming then
    for _, item in ipairs(order.items) do
      local product = backend.findOne("inventory", {sku = item.sku})
      if not product or product.stock < item.qty then
        if email and backend.once("order-email:" .. ctx.id) then
          backend.sendEmail(email, "Order #" .. order.orderId .. " could not be fulfilled",
            "Sorry, " .. item.sku .. " is out of stock. You have not been charged.")
        end
        backend.update("orders", order._id, {status = "rejected", reason = "out of stock: " .. item.sku})
        return {orderId = order.orderId, status = "rejected"}
      end
    end
    -- One atomic step from "placed": of two events for the same order
    -- racing here, only one goes on.
    if backend.update("orders", {_id = order._id, status = "placed"}, {status = "reserving", eventId = ctx.id}) == 0 then
      return {orderId = order.orderId, skipped = "handled by another event"}
    end
  end

  for _, item in ipairs(order.items) do
    if backend.once("order-stock:" .. ctx.id .. ":" .. item.sku) then
      backend.update("inventory", {sku = item.sku}, {["$inc"] = {stock = -item.qty}})
    end
  end
  local amount = string.format("%.2f", total(order))
  if email and backend.once("order-email:" .. ctx.id) then
    local lines = {}
    for i, item in ipairs(order.items) do lines[i] = item.qty .. " x " .. item.sku end
    backend.sendEmail(email, "Order #" .. order.orderId .. " confirmed", {
      text = "Thanks for your order!\n" .. table.concat(lines, "\n") .. "\nTotal: " .. amount,
      html = "<p>Thanks for your order!</p><p>" .. table.concat(lines, "<br>") .. "</p><p>Total: " .. amount .. "</p>",
    })
  end
  -- Last: once the order is no longer "placed", a retry does nothing.
  backend.update("orders", order._id, {status = "confirmed", confirmedAt = backend.now(), total = total(order)})
  return {orderId = order.orderId, status = "confirmed", total = amount}
end
