-- sessionCleanup deletes the documents of the app's "sessions" collection
-- whose expiresAt has passed, and emails a summary to the address in the
-- OPS_EMAIL secret (`moonbase secrets set OPS_EMAIL ops@example.com`) when
-- it deleted any.
--
-- Deleting by a filter is idempotent by nature: a retry or a second run
-- deletes nothing more. The email is guarded by backend.once, keyed by the
-- occurrence (ctx.id), so a retried run does not send it twice.
function handle(input, ctx)
  local now = backend.now()
  local deleted = backend.delete("sessions", {expiresAt = {["$lte"] = now}})
  local remaining = backend.count("sessions")
  print("deleted " .. deleted .. " expired sessions, " .. remaining .. " remain")

  local ops = backend.env("OPS_EMAIL")
  if ops and deleted > 0 and backend.once("sessionCleanup:" .. ctx.id) then
    backend.sendEmail(ops, "Session cleanup: " .. deleted .. " expired sessions deleted",
      "At " .. now:format("%Y-%m-%d %H:%M UTC") .. " the hourly cleanup deleted " .. deleted ..
      " expired sessions; " .. remaining .. " are still active.")
  end
  return {deleted = deleted, remaining = remaining}
end
