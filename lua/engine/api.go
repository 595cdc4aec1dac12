package engine

import (
	lua "github.com/yuin/gopher-lua"
)

// apiEntry is one name in the backend module: a function, or a value.
type apiEntry struct {
	name  string                     // path under backend, e.g. "http.request"
	fn    func(*vm, *lua.LState) int // the call; nil for a value
	value func(*vm) lua.LValue       // the value, for the few names that are not calls
	doc   string                     // signature and result, as docs/lua-api.md shows them
}

// backendAPI is the whole surface a function can call, one line per name.
// Implementations live in api_<area>.go; docs/lua-api.md documents every
// name with an example (a test keeps the two in step).
func backendAPI() []apiEntry {
	return []apiEntry{
		// Data, with the run's rights: its caller's (a user, or anonymous) for
		// invoke and http runs, full rights for event and schedule runs.
		{name: "query", fn: (*vm).query, doc: "query(collection, filter?, {sort, limit, skip, fields}?) → array of documents"},
		{name: "get", fn: (*vm).get, doc: "get(collection, id) → document or nil"},
		{name: "findOne", fn: (*vm).findOne, doc: "findOne(collection, filter?, {sort, skip, fields}?) → document or nil"},
		{name: "create", fn: (*vm).create, doc: "create(collection, document) → the stored document, with _id"},
		{name: "update", fn: (*vm).update, doc: "update(collection, id_or_filter, changes) → document or nil (id) | number matched (filter)"},
		{name: "delete", fn: (*vm).delete, doc: "delete(collection, id_or_filter) → boolean (id) | number deleted (filter)"},
		{name: "count", fn: (*vm).count, doc: "count(collection, filter?) → number"},
		// The same data calls with full rights.
		{name: "asServiceRole.query", fn: (*vm).serviceQuery, doc: "asServiceRole.query(collection, filter?, options?) → array of documents, with full rights"},
		{name: "asServiceRole.get", fn: (*vm).serviceGet, doc: "asServiceRole.get(collection, id) → document or nil, with full rights"},
		{name: "asServiceRole.findOne", fn: (*vm).serviceFindOne, doc: "asServiceRole.findOne(collection, filter?, options?) → document or nil, with full rights"},
		{name: "asServiceRole.create", fn: (*vm).serviceCreate, doc: "asServiceRole.create(collection, document) → the stored document, with full rights"},
		{name: "asServiceRole.update", fn: (*vm).serviceUpdate, doc: "asServiceRole.update(collection, id_or_filter, changes) → as update, with full rights"},
		{name: "asServiceRole.delete", fn: (*vm).serviceDelete, doc: "asServiceRole.delete(collection, id_or_filter) → as delete, with full rights"},
		{name: "asServiceRole.count", fn: (*vm).serviceCount, doc: "asServiceRole.count(collection, filter?) → number, with full rights"},

		// Events, other functions, email.
		{name: "publishEvent", fn: (*vm).publishEvent, doc: "publishEvent(name, data?) → event id"},
		{name: "executeFunction", fn: (*vm).executeFunction, doc: "executeFunction(name, data?) → result, status"},
		{name: "sendEmail", fn: (*vm).sendEmail, doc: "sendEmail(to_or_{to, …}, subject[, text_or_{text, html, from, reply_to}]) → message id"},

		// Realtime channels.
		{name: "publish", fn: (*vm).publish, doc: "publish(channel, data) → the message's offset"},
		{name: "channels.members", fn: (*vm).channelMembers, doc: "channels.members(channel) → array of {id, name}"},

		// Outgoing HTTP.
		{name: "http.request", fn: (*vm).httpRequest, doc: "http.request{method, url, headers, body, json, timeout} → {status, headers, body, json}"},

		// Webhooks: verify inbound, deliver outbound.
		{name: "webhooks.verify", fn: (*vm).webhooksVerify, doc: "webhooks.verify(scheme, input, secret, {tolerance, header, encoding, timestamp_header, url}?) → the verified event"},
		{name: "webhooks.emit", fn: (*vm).webhooksEmit, doc: "webhooks.emit(type, payload_or_function, versions?) → {id, deliveries}"},
		{name: "webhooks.send", fn: (*vm).webhooksSend, doc: "webhooks.send(url, payload, {secret, headers, max_attempts}?) → delivery id"},
		{name: "webhooks.deliveries", fn: (*vm).webhooksDeliveries, doc: "webhooks.deliveries(endpoint_id, {status, limit}?) → array of deliveries with their attempts, newest first"},
		{name: "webhooks.replay", fn: (*vm).webhooksReplay, doc: "webhooks.replay(endpoint_id, delivery_id) → nothing; sends the delivery again"},
		{name: "webhooks.seen", fn: (*vm).webhooksSeen, doc: "webhooks.seen(key) → true when this function already processed key in a run that succeeded"},

		// Idempotency and secrets.
		{name: "once", fn: (*vm).once, doc: "once(key) → true the first time key is seen, false after"},
		{name: "env", fn: (*vm).env, doc: "env(name) → the secret's value, or nil"},

		// Dates and values.
		{name: "now", fn: (*vm).now, doc: "now() → date"},
		{name: "date", fn: (*vm).date, doc: "date(string | {year, month, day, hour, min, sec} | unix_seconds | date, timezone?) → date"},
		{name: "response", fn: (*vm).response, doc: "response(status, body?, headers?) → a response to return from the handler"},
		{name: "array", fn: (*vm).array, doc: "array(table?) → the table, marked to convert as an array ([] when empty)"},
		{name: "object", fn: (*vm).object, doc: "object(table?) → the table, marked to convert as an object ({} when empty)"},
		{name: "null", value: func(v *vm) lua.LValue { return v.null }, doc: "null — JSON/BSON null where nil cannot stand (inside arrays)"},

		// Encodings.
		{name: "json.encode", fn: (*vm).jsonEncode, doc: "json.encode(value, {pretty}?) → string"},
		{name: "json.decode", fn: (*vm).jsonDecode, doc: "json.decode(text) → value"},
		{name: "json.null", value: func(v *vm) lua.LValue { return v.null }, doc: "json.null — the same value as backend.null"},
		{name: "base64.encode", fn: (*vm).base64Encode, doc: "base64.encode(bytes) → string (standard alphabet, padded)"},
		{name: "base64.decode", fn: (*vm).base64Decode, doc: "base64.decode(text) → bytes (padded or not)"},
		{name: "base64.urlEncode", fn: (*vm).base64URLEncode, doc: "base64.urlEncode(bytes) → string (URL alphabet, no padding)"},
		{name: "base64.urlDecode", fn: (*vm).base64URLDecode, doc: "base64.urlDecode(text) → bytes (padded or not)"},
		{name: "hex.encode", fn: (*vm).hexEncode, doc: "hex.encode(bytes) → lowercase hex string"},
		{name: "hex.decode", fn: (*vm).hexDecode, doc: "hex.decode(text) → bytes"},

		// Cryptography.
		{name: "crypto.hmac", fn: (*vm).cryptoHMAC, doc: "crypto.hmac(algorithm, key, message, encoding?) → signature (hex by default)"},
		{name: "crypto.sha256", fn: (*vm).cryptoSHA256, doc: "crypto.sha256(message, encoding?) → digest (hex by default)"},
		{name: "crypto.hash", fn: (*vm).cryptoHash, doc: "crypto.hash(algorithm, message, encoding?) → digest (hex by default)"},
		{name: "crypto.randomBytes", fn: (*vm).cryptoRandomBytes, doc: "crypto.randomBytes(n, encoding?) → n random bytes (raw by default)"},
		{name: "crypto.uuid", fn: (*vm).cryptoUUID, doc: "crypto.uuid() → a random (version 4) UUID string"},
		{name: "crypto.equal", fn: (*vm).cryptoEqual, doc: "crypto.equal(a, b) → whether two strings are equal, in constant time"},

		// Output, kept in the run's execution record.
		{name: "log.info", fn: (*vm).logInfo, doc: "log.info(...) → nothing; records an info line"},
		{name: "log.warn", fn: (*vm).logWarn, doc: "log.warn(...) → nothing; records a warning line"},
		{name: "log.error", fn: (*vm).logError, doc: "log.error(...) → nothing; records an error line (the run still succeeds)"},
	}
}
