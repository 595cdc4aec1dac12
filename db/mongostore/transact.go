package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"github.com/moonbase-dev/moonbase/db"
)

// detectTransactions asks the deployment whether it runs multi-document
// transactions: replica set members and mongos routers do, standalone
// servers and FerretDB do not.
func detectTransactions(ctx context.Context, database *mongo.Database) (bool, error) {
	var hello struct {
		SetName        string `bson:"setName"`
		Msg            string `bson:"msg"`
		SessionTimeout *int64 `bson:"logicalSessionTimeoutMinutes"`
	}
	if err := database.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return false, err
	}
	return hello.SessionTimeout != nil && (hello.SetName != "" || hello.Msg == "isdbgrid"), nil
}

// Transactions reports whether Transact runs transactions on this
// deployment rather than returning db.ErrNoTransactions.
func (s *Store) Transactions() bool { return s.transactions }

// txView is the db.Tx handed to a transaction's function: the store's
// own collections, which join the transaction through the ctx fn gets.
type txView struct{ s *Store }

func (v txView) C(name string) db.Collection { return v.s.C(name) }

// Transact runs fn in a MongoDB transaction (snapshot reads, majority
// writes) on a deployment that has them, retrying it as the driver does
// on a transient error; elsewhere it returns db.ErrNoTransactions.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context, tx db.Tx) error) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	if !s.transactions {
		return db.ErrNoTransactions
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return mapError("", "start session", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	var fnErr error
	_, err = sess.WithTransaction(ctx, func(sc mongo.SessionContext) (any, error) {
		fnErr = fn(sc, txView{s: s})
		return nil, fnErr
	}, optsTxn())
	if fnErr != nil && errors.Is(err, fnErr) {
		return fnErr
	}
	if err != nil {
		return mapError("", "transaction", err)
	}
	return nil
}

// optsTxn reads a snapshot and writes to a majority, so a committed
// transaction survives the loss of the primary.
func optsTxn() *options.TransactionOptions {
	return options.Transaction().
		SetReadConcern(readconcern.Snapshot()).
		SetWriteConcern(writeconcern.Majority())
}
