-- trial-reminder emails every user whose trial has ended (trialEndsAt at
-- or before now) and who has not paid (isPaid false): "Your trial is
-- ending". users are the accounts; trialEndsAt and isPaid are app fields
-- functions keep on them. Schedule runs have no user and act with full
-- rights, which reading users needs.
--
-- backend.once makes the reminder go out once per account, however often
-- the schedule fires or the queue retries a failed run.
function handle(input, ctx)
  local due = backend.query("users", {
    trialEndsAt = {["$lte"] = backend.now()},
    isPaid = false,
  }, {sort = "trialEndsAt", limit = 1000})

  local sent = 0
  for _, user in ipairs(due) do
    if backend.once("trial-reminder:" .. user._id) then
      backend.sendEmail(user.email, "Your trial is ending",
        "Hello " .. (user.name ~= "" and user.name or "there") .. ", your trial ended on " ..
        user.trialEndsAt:format("%Y-%m-%d") .. ". Upgrade to keep your data.")
      sent = sent + 1
    end
  end
  print("reminded " .. sent .. " of " .. #due .. " users with an ended trial")
  return {due = #due, sent = sent}
end
