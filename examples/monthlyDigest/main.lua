-- monthlyDigest emails every active subscriber the articles published
-- since the previous digest (the month before input.scheduled_at).
--
-- Each subscriber's email is guarded by backend.once, keyed by the
-- occurrence (ctx.id) and the subscriber: a retry after a failure half-way
-- sends the rest, and nobody gets the same digest twice.
function handle(input, ctx)
  local till = input.scheduled_at or backend.now()
  local since = till:add{months = -1}
  local articles = backend.query("articles", {publishedAt = {["$gt"] = since, ["$lte"] = till}},
    {sort = "-publishedAt", limit = 50, fields = {"title", "url"}})
  if #articles == 0 then
    print("no articles since " .. since:iso() .. "; no digest this month")
    return {articles = 0, sent = 0}
  end

  local month = till:format("%B %Y", "America/New_York")
  local lines, items = {}, {}
  for i, a in ipairs(articles) do
    lines[i] = "- " .. a.title .. " " .. (a.url or "")
    items[i] = "<li><a href=\"" .. (a.url or "#") .. "\">" .. a.title .. "</a></li>"
  end
  local text = "This month on our blog:\n" .. table.concat(lines, "\n")
  local html = "<h1>" .. month .. "</h1><ul>" .. table.concat(items) .. "</ul>"

  local sent = 0
  for _, s in ipairs(backend.query("subscribers", {active = true}, {limit = 10000})) do
    if backend.once("monthlyDigest:" .. ctx.id .. ":" .. s._id) then
      backend.sendEmail(s.email, "Your digest for " .. month, {text = text, html = html})
      sent = sent + 1
    end
  end
  return {articles = #articles, sent = sent}
end
