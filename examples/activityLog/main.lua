-- activityLog records every doc_created event in the "activity"
-- collection: who (event.user, nil for an anonymous write to a public
-- collection), what (the collection and the document's id) and when. The
-- first creation recorded for a user also gets a congratulation by email.
--
-- The record's _id is the event's id (ctx.id): a second delivery of the
-- same event finds it taken and records nothing twice. Writes made by
-- functions fire doc_created too, so the records this function writes
-- come back to it: it leaves them alone rather than feed on itself.
function handle(event, ctx)
  if event.collection == "activity" then
    return {skipped = "an activity record"}
  end
  local user = event.user
  local ok = pcall(backend.create, "activity", {
    _id = ctx.id,
    action = "created",
    collection = event.collection,
    docId = event.id,
    user = user and user.id,
    at = ctx.at,
  })
  if not ok then
    if backend.get("activity", ctx.id) then
      return {skipped = "already recorded"}
    end
    error("could not record the activity of event " .. ctx.id)
  end

  if user and backend.once("first-activity:" .. user.id) then
    backend.sendEmail(user.email, "You created your first " .. event.collection .. " entry",
      "Nice start! Everything you create shows up in your activity log.")
  end
  return {recorded = ctx.id}
end
