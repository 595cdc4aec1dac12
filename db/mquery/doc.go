// Package mquery evaluates MongoDB's query language in Go over bson.M
// documents: filter matching, update operators, the cross-type sort order
// and projections. The embedded store runs every filter through it on the
// rows its SQLite indexes narrow a query to.
//
// Example:
//
//	m, err := mquery.Compile(bson.M{"age": bson.M{"$gte": 18}})
//	if err == nil && m.Match(doc) { … }
package mquery
