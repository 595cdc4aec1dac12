-- trial-reminder emails every account whose trial has ended (trialEndsAt at
-- or before now) and that has not paid (isPaid false): "Your trial is
-- ending". Schedule runs have no user and act with full rights.
--
-- backend.once makes the reminder go out once per account, however often
-- the schedule fires or the queue retries a failed run.
function handle(input, ctx)
  local due = backend.query("accounts", {
    trialEndsAt = {["$lte"] = backend.now()},
    isPaid = false,
  }, {sort = "trialEndsAt", limit = 1000})

  local sent = 0
  for _, account in ipairs(due) do
    if backend.once("trial-reminder:" .. account._id) then
      backend.sendEmail(account.email, "Your trial is ending",
        "Hello " .. (account.name or "there") .. ", your trial ended on " ..
        account.trialEndsAt:format("%Y-%m-%d") .. ". Upgrade to keep your data.")
      sent = sent + 1
    end
  end
  print("reminded " .. sent .. " of " .. #due .. " accounts with an ended trial")
  return {due = #due, sent = sent}
end
