-- sendWelcomeEmail greets someone by name and emails them the greeting.
--
-- From the app (invoke trigger): {name = "Alice"} answers
-- {message = "Hello, Alice!"}; without a name it greets the signed-in user
-- by their full name; with nobody signed in it answers 401.
--
-- Over HTTP (http trigger: curl, webhooks, other systems) there is no user:
-- the caller sends {"name": …, "email": …} as JSON (or ?name=…), and the
-- function acts with service rights.

local function greet(name, email, via)
  local message = "Hello, " .. name .. "!"
  if email ~= nil then
    backend.sendEmail(email, "Welcome!", message)
  end
  -- Every greeting is kept, whoever asked; asServiceRole writes with full
  -- rights even when a user invoked the function.
  backend.asServiceRole.create("greetings", {name = name, email = email, via = via, at = backend.now()})
  return {message = message}
end

function handle(input, ctx)
  if ctx.trigger == "http" then
    local body = input.json or {}
    local name = body.name or input.query.name
    if type(name) ~= "string" or name == "" then
      return {status = 400, body = {error = "send a name, as {\"name\": \"Alice\"} or ?name=Alice"}}
    end
    return greet(name, body.email, "http")
  end

  if ctx.user == nil then
    return backend.response(401, {error = "sign in to be greeted"})
  end
  local name = input.name
  if name == nil or name == "" then
    name = ctx.user.name
  end
  if name == nil or name == "" then
    name = ctx.user.email
  end
  return greet(name, ctx.user.email, "app")
end
