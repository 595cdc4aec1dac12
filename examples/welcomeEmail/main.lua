-- onUserRegistered runs for every user_registered event. The event's data
-- is the handler's first argument: event.user is {id, email, name,
-- created_at}.
--
-- Delivery is at least once; backend.once keyed by the event's id
-- (ctx.id, the same on every attempt) makes the email go out once.
function onUserRegistered(event, ctx)
  local user = event.user
  if not backend.once("welcome:" .. ctx.id) then
    return {skipped = "already welcomed"}
  end
  local name = user.name
  if name == nil or name == "" then name = "there" end
  backend.sendEmail(user.email, "Welcome!", {
    text = "Hi " .. name .. ",\n\nthanks for signing up. Your account is ready.",
    html = "<p>Hi " .. name .. ",</p><p>thanks for signing up. Your account is ready.</p>",
  })
  return {welcomed = user.email}
end
