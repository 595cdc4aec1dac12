-- This function runs every day at 9 AM
function handleTrialExpiration()
  -- Find users whose trial expires today
  local users = backend.query('users', {
    trialEndsAt = { ["$lte"] = backend.now() },
    isPaid = false
  })

  -- Send reminder emails
  for _, user in ipairs(users) do
    backend.sendEmail(user.email, 'Your trial is ending')
  end
end
