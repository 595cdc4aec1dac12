local function apply(event)
  local obj = event.data and event.data.object or {}
  if event.type == "invoice.paid" then
    backend.update("subscriptions", {customer = obj.customer}, {status = "active", paid_through = obj.period_end})
  elseif event.type == "customer.subscription.deleted" then
    backend.update("subscriptions", {customer = obj.customer}, {status = "canceled"})
  end
end

function handle(input, ctx)
  local api = backend.env("STRIPE_API") or "https://api.stripe.com"
  local key = backend.env("STRIPE_SECRET_KEY") or error("STRIPE_SECRET_KEY is not set")
  local since = math.floor(backend.now():unix() - 25 * 3600)
  local cursor, recovered, seen = nil, 0, 0
  while true do
    local url = api .. "/v1/events?limit=100&created[gte]=" .. since
    if cursor then url = url .. "&starting_after=" .. cursor end
    local res = backend.http.request{url = url, headers = {Authorization = "Bearer " .. key}}
    if res.status ~= 200 then error("listing events: " .. res.status .. " " .. res.body) end
    for _, event in ipairs(res.json.data) do
      seen = seen + 1
      if not backend.findOne("webhook_log", {event_id = event.id}) then
        apply(event)
        backend.create("webhook_log", {
          event_id = event.id, event_type = event.type, received_at = backend.now(),
          status = "processed", source = "reconcile",
        })
        recovered = recovered + 1
      end
    end
    if not res.json.has_more or #res.json.data == 0 then break end
    cursor = res.json.data[#res.json.data].id
  end
  backend.log.info("reconciled " .. seen .. " events, recovered " .. recovered)
  return {recovered = recovered, seen = seen}
end
