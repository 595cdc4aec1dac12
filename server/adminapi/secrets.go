package adminapi

// SecretRequest is the body of PUT /api/admin/secrets/:name. Value is a
// pointer so that a missing value is told from an empty one.
type SecretRequest struct {
	Value *string `json:"value"`
}

// SecretsAnswer answers GET /api/admin/secrets: the names, sorted, never
// the values.
type SecretsAnswer struct {
	Secrets []string `json:"secrets"`
	// Next is the after of the following page, "" on the last.
	Next string `json:"next"`
}
