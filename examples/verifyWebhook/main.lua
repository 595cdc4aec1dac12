-- Options of the schemes that need them: the in-house sender's header names.
local options = {
  ["hmac-sha256"] = {header = "X-Acme-Signature", timestamp_header = "X-Acme-Timestamp"},
}

function handle(input)
  local scheme = input.path:match("^/functions/verifyWebhook/([%w-]+)$")
  if not scheme then return backend.response(404, "use /functions/verifyWebhook/<scheme>") end
  local secret = backend.env("WEBHOOK_SECRET_" .. scheme:upper():gsub("-", "_"))
  if not secret then return backend.response(404, "no secret for " .. scheme) end
  local ok, event = pcall(backend.webhooks.verify, scheme, input, secret, options[scheme])
  if not ok then return backend.response(400, {error = tostring(event)}) end
  return {scheme = scheme, event = event}
end
