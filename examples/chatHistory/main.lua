-- onChatMessage is the product documents' chat-history example as written:
-- the event is {channel, user, message, offset, at}, user being {id, name}
-- of the sender and message the data the client sent.
function onChatMessage(event)
  backend.create('chat_history', {
    channel = event.channel,
    user = event.user,
    message = event.message,
    timestamp = backend.now()
  })
end
