-- The sender is not a signed-in user: an http run acts as anonymous, so
-- the handler writes with full rights through backend.asServiceRole once
-- the signature is verified.
local db = backend.asServiceRole

-- process applies one Stripe event to the app's data. It is shared in spirit
-- with reconcileStripe, which applies the events this handler never got.
local function process(event)
  local obj = event.data and event.data.object or {}
  if event.type == "invoice.paid" then
    if not obj.customer then error("invoice.paid without a customer") end
    local n = db.update("subscriptions", {customer = obj.customer}, {status = "active", paid_through = obj.period_end})
    if n == 0 then error("no subscription for customer " .. obj.customer) end
  elseif event.type == "customer.subscription.deleted" then
    db.update("subscriptions", {customer = obj.customer}, {status = "canceled"})
  end
end

function handle(input)
  local ok, event = pcall(backend.webhooks.verify, "stripe", input, backend.env("STRIPE_WEBHOOK_SECRET"))
  if not ok then
    backend.log.warn("refused: " .. tostring(event))
    return backend.response(400, "Invalid signature")
  end
  -- Kept only when this run succeeds: a failed run's retry processes it again.
  if backend.webhooks.seen(event.id) then
    return backend.response(200, "Already processed")
  end
  local entry = db.findOne("webhook_log", {event_id = event.id})
  if not entry then
    entry = db.create("webhook_log", {
      event_id = event.id, event_type = event.type, payload = input.body,
      received_at = backend.now(), status = "received", source = "webhook",
    })
  end
  local done, err = pcall(process, event)
  if not done then
    db.update("webhook_log", entry._id, {status = "failed", error = tostring(err)})
    return backend.response(500, "Processing error")
  end
  db.update("webhook_log", entry._id, {status = "processed", processed_at = backend.now()})
  return "OK"
end
