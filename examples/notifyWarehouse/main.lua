-- notifyWarehouse tells the warehouse about each placed order
-- (publishEvent('order_placed', {orderId = 123})) by POSTing it to the
-- warehouse's URL, the WAREHOUSE_URL secret.
--
-- Anything but a 2xx answer raises an error: the attempt fails and the
-- queue retries it on the schedule function.yaml sets. Every attempt of
-- one event carries the same Idempotency-Key (the event's id, ctx.id), so
-- the warehouse can tell a retry from a new order.
function handle(event, ctx)
  local url = backend.env("WAREHOUSE_URL")
  if url == nil then
    error("set the WAREHOUSE_URL secret to the warehouse's order endpoint")
  end
  local res = backend.http.request{
    method = "POST",
    url = url,
    headers = {["Idempotency-Key"] = ctx.id},
    json = {orderId = event.orderId, placedBy = event.user and event.user.id, attempt = ctx.attempt},
    timeout = 10,
  }
  if res.status < 200 or res.status > 299 then
    error("the warehouse answered " .. res.status .. ": " .. string.sub(res.body or "", 1, 200))
  end
  backend.log.info("order", event.orderId, "sent to the warehouse on attempt", ctx.attempt)
  return {delivered = true, status = res.status}
end
