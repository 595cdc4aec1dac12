package storetest

import (
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

func testDelete(t *testing.T, s *suite) {
	st := s.open(t)
	fixture := func(t *testing.T) db.Collection {
		c := coll(t, st)
		insert(t, c,
			bson.M{"_id": "a", "g": "x"},
			bson.M{"_id": "b", "g": "x"},
			bson.M{"_id": "c", "g": "x"},
			bson.M{"_id": "d", "g": "y"})
		return c
	}
	cases := []struct {
		name   string
		many   bool
		filter bson.M
		n      int64
		left   []string
	}{
		{"OneOfMany", false, bson.M{"g": "x"}, 1, nil}, // which one is unspecified
		{"OneByID", false, db.ByID("b"), 1, []string{"a", "c", "d"}},
		{"OneNoMatch", false, bson.M{"g": "z"}, 0, []string{"a", "b", "c", "d"}},
		{"Many", true, bson.M{"g": "x"}, 3, []string{"d"}},
		{"ManyByOperator", true, bson.M{"_id": bson.M{"$in": bson.A{"a", "d", "z"}}}, 2, []string{"b", "c"}},
		{"ManyNoMatch", true, bson.M{"g": "z"}, 0, []string{"a", "b", "c", "d"}},
		{"ManyNilFilter", true, nil, 4, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			c := fixture(t)
			var n int64
			var err error
			if tc.many {
				n, err = c.DeleteMany(t.Context(), tc.filter)
			} else {
				n, err = c.DeleteOne(t.Context(), tc.filter)
			}
			ok(t, err, "delete")
			same(t, "deleted", n, tc.n)
			same(t, "documents left", count(t, c, nil), 4-tc.n)
			if tc.left != nil {
				sameIDSet(t, "documents left", find(t, c, nil, nil), tc.left...)
			}
		})
	}
	t.Run("FromMissingCollection", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		n, err := c.DeleteOne(t.Context(), nil)
		ok(t, err, "delete one")
		same(t, "deleted by DeleteOne", n, int64(0))
		n, err = c.DeleteMany(t.Context(), nil)
		ok(t, err, "delete many")
		same(t, "deleted by DeleteMany", n, int64(0))
	})
}

func testCount(t *testing.T, s *suite) {
	st := s.open(t)
	c := coll(t, st)
	insert(t, c, bson.M{"n": int32(1)}, bson.M{"n": int64(2)}, bson.M{"n": 3.0}, bson.M{"s": "x"})
	cases := []struct {
		name   string
		filter bson.M
		want   int64
	}{
		{"Nil", nil, 4},
		{"Empty", bson.M{}, 4},
		{"Filter", bson.M{"n": bson.M{"$gte": 2}}, 2},
		{"NoMatch", bson.M{"n": 9}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			same(t, "count", count(t, c, tc.filter), tc.want)
		})
	}
	t.Run("MissingCollection", func(t *testing.T) {
		s.parallel(t)
		same(t, "count", count(t, coll(t, st), nil), int64(0))
	})
}
