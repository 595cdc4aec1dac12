function handle(event, ctx)
  local to = backend.env("OPS_EMAIL")
  if not to then return end
  -- A dead webhook delivery is also a dead job: one email is enough.
  if ctx.event == "job_dead" and event.kind == "webhook" then return end
  local subject, body
  if ctx.event == "webhook_dead" then
    subject = "Webhook delivery dead: " .. tostring(event.type or event.delivery_id)
    body = "Delivery " .. event.delivery_id .. " to " .. tostring(event.url) .. " failed "
      .. tostring(event.attempts) .. " attempts: " .. tostring(event.error)
      .. "\nReplay it: moonbase webhooks replay " .. event.delivery_id
      .. " (or POST /api/admin/webhooks/deliveries/" .. event.delivery_id .. "/replay)"
  elseif ctx.event == "webhook_endpoint_disabled" then
    subject = "Webhook endpoint disabled: " .. tostring(event.url)
    body = "Endpoint " .. event.endpoint_id .. " was disabled: " .. tostring(event.reason)
  else
    subject = "Job dead: " .. tostring(event.kind)
    body = "Job " .. event.job_id .. " (" .. tostring(event.function_name or event["function"] or event.kind)
      .. ") failed " .. tostring(event.attempts) .. " attempts: " .. tostring(event.error)
  end
  backend.sendEmail(to, subject, body)
end
