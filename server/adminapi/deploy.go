package adminapi

import "github.com/moonbase-dev/moonbase/lua/functions"

// Deploy actions, as a deploy's answer says them.
const (
	DeployCreated   = "created"
	DeployUpdated   = "updated"
	DeployUnchanged = "unchanged"
)

// DeployRequest is the body of POST /api/admin/deploy.
type DeployRequest struct {
	Functions []functions.Definition `json:"functions"`
	DryRun    bool                   `json:"dry_run"`
}

// DeployResult is what a deploy did (or, in a dry run, would do) to one
// function.
type DeployResult struct {
	Name    string `json:"name"`
	Action  string `json:"action"`
	Version int64  `json:"version,omitempty"`
}

// DeployAnswer answers a deploy, in the order of the request.
type DeployAnswer struct {
	Functions []DeployResult `json:"functions"`
}

// DeployProblem is one function a deploy refused, and why: the details of
// its deploy_refused error.
type DeployProblem struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}
