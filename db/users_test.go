package db

import (
	"errors"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

func TestUserProjection(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		in   bson.M
		want bson.M
	}{
		{"none", nil, bson.M{UserPasswordHash: 0}},
		{"exclusion", bson.M{"plan": 0}, bson.M{"plan": 0, UserPasswordHash: 0}},
		{"inclusion", bson.M{"email": 1, "plan": true}, bson.M{"email": 1, "plan": true}},
		{"inclusion asking for the hash", bson.M{"email": int64(1), UserPasswordHash: 1}, bson.M{"email": int64(1)}},
	}
	for _, s := range scenarios {
		if got := UserProjection(s.in); !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: UserProjection(%v) = %v, want %v", s.name, s.in, got, s.want)
		}
	}
}

func TestCheckUserFilterAndUpdate(t *testing.T) {
	t.Parallel()
	filters := []struct {
		filter bson.M
		ok     bool
	}{
		{bson.M{"isPaid": false, "trialEndsAt": bson.M{"$lte": 1}}, true},
		{bson.M{"email": "a@example.com"}, true},
		{bson.M{UserPasswordHash: "x"}, false},
		{bson.M{UserPasswordHash + ".x": "x"}, false},
		{bson.M{"$and": bson.A{bson.M{"a": 1}, bson.M{"$or": bson.A{bson.M{UserPasswordHash: bson.M{"$exists": true}}}}}}, false},
	}
	for _, f := range filters {
		err := CheckUserFilter(f.filter)
		if (err == nil) != f.ok || (err != nil && !errors.Is(err, ErrInvalidQuery)) {
			t.Errorf("CheckUserFilter(%v) = %v, want ok %v", f.filter, err, f.ok)
		}
	}
	updates := []struct {
		update bson.M
		ok     bool
	}{
		{bson.M{"$set": bson.M{"plan": "pro", "limits.seats": 3}}, true},
		{bson.M{"$inc": bson.M{"logins": 1}, "$unset": bson.M{"trialEndsAt": ""}}, true},
		{bson.M{"$set": bson.M{"email": "x@example.com"}}, false},
		{bson.M{"$unset": bson.M{UserVerified: ""}}, false},
		{bson.M{"$set": bson.M{"created_at.x": 1}}, false},
		{bson.M{UserPasswordHash: "x"}, false},
		{bson.M{"$rename": bson.M{"_id": "id"}}, false},
		{bson.M{"$rename": bson.M{"plan": "email"}}, false},
		{bson.M{"$rename": bson.M{"plan": "tier"}}, true},
	}
	for _, u := range updates {
		if err := CheckUserUpdate(u.update); (err == nil) != u.ok {
			t.Errorf("CheckUserUpdate(%v) = %v, want ok %v", u.update, err, u.ok)
		}
	}
}
