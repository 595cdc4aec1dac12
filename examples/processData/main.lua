-- processData summarises one batch of the signed-in user's readings and
-- keeps the summary.
--
-- A function acts as its caller: called by a signed-in user, the data
-- calls have that user's rights, so under the default `owner` rule it sees
-- only their readings, and the summary it creates is theirs. An anonymous
-- caller could reach only public collections (backend.query("readings")
-- would raise "sign in required"), so it is answered a clear 401 first.
function handle(input, ctx)
  if ctx.user == nil then
    return backend.response(401, {error = "sign in to process data"})
  end
  if type(input.id) ~= "number" then
    return backend.response(400, {error = "id must be a number, as in {id = 123}"})
  end

  local readings = backend.query("readings", {batch = input.id}, {sort = "value"})
  local total = 0
  for _, r in ipairs(readings) do
    total = total + r.value
  end
  local summary = {batch = input.id, count = #readings, total = total, processedAt = backend.now()}
  if #readings > 0 then
    summary.min = readings[1].value
    summary.max = readings[#readings].value
    summary.mean = total / #readings
  end
  local saved = backend.create("summaries", summary)
  backend.log.info("batch", input.id, "summarised from", #readings, "readings as", saved._id)

  summary.id = saved._id
  return summary
end
