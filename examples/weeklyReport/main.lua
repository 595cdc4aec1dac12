-- weeklyReport sums up the orders placed in the seven days before the
-- scheduled time (input.scheduled_at): how many, the revenue, the biggest
-- one. It keeps the summary in "reports" and emails it, as text and HTML,
-- to every address in the REPORT_TO secret (comma-separated).
--
-- The stored report names its occurrence (ctx.id): a run that finds it
-- has nothing left to do, so a retry or a replay after the report went out
-- does not send it again.
local function money(n)
  return string.format("%.2f", n)
end

function handle(input, ctx)
  local to = backend.env("REPORT_TO") or error("set the REPORT_TO secret to the report's recipients")
  if backend.findOne("reports", {occurrence = ctx.id}) then
    return {skipped = "already reported"}
  end

  local till = input.scheduled_at or backend.now()
  local from = till - 7 * 24 * 3600
  local orders = backend.query("orders", {placedAt = {["$gt"] = from, ["$lte"] = till}},
    {sort = "-total", limit = 10000})
  local revenue = 0
  for _, o in ipairs(orders) do revenue = revenue + (o.total or 0) end
  local biggest = orders[1]

  local week = from:format("%Y-%m-%d", "Europe/London") .. " to " .. till:format("%Y-%m-%d", "Europe/London")
  local summary = {
    occurrence = ctx.id, from = from, till = till,
    orders = #orders, revenue = revenue, biggest = biggest and biggest.total or 0,
  }
  local subject = "Weekly report: " .. #orders .. " orders, " .. money(revenue)
  local text = "Orders from " .. week .. ": " .. #orders .. "\n" ..
    "Revenue: " .. money(revenue) .. "\n" ..
    "Biggest order: " .. money(summary.biggest)
  local html = "<h1>Week of " .. week .. "</h1><ul>" ..
    "<li>Orders: " .. #orders .. "</li>" ..
    "<li>Revenue: " .. money(revenue) .. "</li>" ..
    "<li>Biggest order: " .. money(summary.biggest) .. "</li></ul>"

  for address in string.gmatch(to, "[^,]+") do
    backend.sendEmail(address:match("^%s*(.-)%s*$"), subject, {text = text, html = html})
  end
  backend.create("reports", summary)
  return {orders = #orders, revenue = revenue}
end
