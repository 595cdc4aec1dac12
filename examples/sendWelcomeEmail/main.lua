-- sendWelcomeEmail greets someone by name and emails them the greeting.
--
-- From the app (invoke trigger): {name = "Alice"} answers
-- {message = "Hello, Alice!"}; without a name it greets the signed-in user
-- by their full name; with nobody signed in it answers 401.
--
-- Over HTTP (http trigger: curl, webhooks, other systems) there is no user:
-- the caller sends {"name": …, "email": …} as JSON (or ?name=…). A function
-- acts as its caller, and this caller is anonymous, so what it must write
-- it writes with service rights (backend.asServiceRole).

local function greet(name, email, via)
  local message = "Hello, " .. name .. "!"
  if email ~= nil then
    backend.sendEmail(email, "Welcome!", message)
  end
  -- Every greeting is kept, whoever asked. An anonymous HTTP caller may not
  -- write greetings (it has the default owner rule), and a user's run would
  -- file the greeting under that user: asServiceRole writes it with full
  -- rights, owned by nobody, either way.
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
