package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// adminTokenMetaID is the _meta document holding the admin token's hash.
const adminTokenMetaID = "admin_token"

// adminTokenPrefix marks admin tokens, so one is recognisable in a secret
// scanner or a support request.
const adminTokenPrefix = "mbadmin_"

// minAdminTokenLen bounds a token chosen with MOONBASE_ADMIN_TOKEN from
// below; the admin API can do anything.
const minAdminTokenLen = 16

// setupAdminToken returns the SHA-256 of the admin token. A configured token
// (MOONBASE_ADMIN_TOKEN) replaces the stored hash. Otherwise the stored hash
// is used, and on the very first start a token is generated, its hash
// stored and the token itself printed to stderr, once. The insert decides
// the race between instances starting together: only the one whose insert
// wins prints its token.
func (s *Server) setupAdminToken(ctx context.Context, stderr io.Writer) ([]byte, error) {
	meta := s.store.C(db.Meta)
	now := time.Now().UTC()
	if tok := s.cfg.AdminToken; tok != "" {
		sum := sha256.Sum256([]byte(tok))
		if err := putAdminHash(ctx, meta, hex.EncodeToString(sum[:]), now); err != nil {
			return nil, fmt.Errorf("store admin token hash: %w", err)
		}
		return sum[:], nil
	}
	doc, err := meta.FindOne(ctx, db.ByID(adminTokenMetaID), nil)
	if err == nil {
		return storedAdminHash(doc)
	}
	if !errors.Is(err, db.ErrNotFound) {
		return nil, fmt.Errorf("read admin token hash: %w", err)
	}
	tok := newToken(adminTokenPrefix)
	sum := sha256.Sum256([]byte(tok))
	_, err = meta.InsertOne(ctx, bson.M{"_id": adminTokenMetaID, "hash": hex.EncodeToString(sum[:]), "updated_at": now})
	if errors.Is(err, db.ErrDuplicateKey) {
		// Another instance generated it first; its token stands.
		if doc, err = meta.FindOne(ctx, db.ByID(adminTokenMetaID), nil); err != nil {
			return nil, fmt.Errorf("read admin token hash: %w", err)
		}
		return storedAdminHash(doc)
	}
	if err != nil {
		return nil, fmt.Errorf("store admin token hash: %w", err)
	}
	fmt.Fprintf(stderr, "\n"+
		"  Moonbase admin token (shown this once; only its hash is stored):\n\n"+
		"      %s\n\n"+
		"  Send it as \"Authorization: Bearer <token>\" to /api/admin/*.\n"+
		"  Lost it? Set MOONBASE_ADMIN_TOKEN to choose a new one.\n\n", tok)
	s.log.Info("generated the admin token and printed it to stderr")
	return sum[:], nil
}

// putAdminHash sets the stored hash, inserting the document the first
// time; an instance inserting at the same moment makes the insert collide,
// and the update after it wins.
func putAdminHash(ctx context.Context, meta db.Collection, hash string, now time.Time) error {
	set := bson.M{"$set": bson.M{"hash": hash, "updated_at": now}}
	res, err := meta.UpdateOne(ctx, db.ByID(adminTokenMetaID), set, nil)
	if err != nil || res.Matched > 0 {
		return err
	}
	_, err = meta.InsertOne(ctx, bson.M{"_id": adminTokenMetaID, "hash": hash, "updated_at": now})
	if errors.Is(err, db.ErrDuplicateKey) {
		_, err = meta.UpdateOne(ctx, db.ByID(adminTokenMetaID), set, nil)
	}
	return err
}

func storedAdminHash(doc bson.M) ([]byte, error) {
	h, _ := doc["hash"].(string)
	sum, err := hex.DecodeString(h)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("the stored admin token hash in %s is damaged; set MOONBASE_ADMIN_TOKEN to replace it", db.Meta)
	}
	return sum, nil
}

// requireAdmin lets through requests bearing the admin token, and those
// of a dashboard signed in with it: its session cookie, and on a write
// the session's CSRF token. A bearer token, when sent, decides alone.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	token, _ := bearerToken(c)
	if token == "" && s.dashboard.HasCookie(c) {
		if err := s.dashboard.Authenticate(c); err != nil {
			return err
		}
		return c.Next()
	}
	if !s.isAdminToken(token) {
		return ErrInvalidAdminToken
	}
	return c.Next()
}

// isAdminToken reports whether token is the admin token, comparing hashes
// in constant time.
func (s *Server) isAdminToken(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return token != "" && subtle.ConstantTimeCompare(sum[:], s.adminHash) == 1
}

// bindAdminApi registers the admin API. Every /api/admin route needs the
// admin token (see newApp).
func bindAdminApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin")
	g.Get("/collections", s.adminCollections)
}

// collectionInfo describes one data API collection to an admin.
type collectionInfo struct {
	Name       string        `json:"name"`
	Read       db.Rule       `json:"read"`
	Write      db.Rule       `json:"write"`
	Indexes    []IndexConfig `json:"indexes"`
	Configured bool          `json:"configured"` // listed in config.yaml
	Exists     bool          `json:"exists"`     // has documents or indexes in the store
}

// adminCollections lists the configured collections and those that exist in
// the store, with the rules in force: 200 {collections: […], next}, by
// name. ?limit= pages it (paging.go: ?after=<last name of the previous
// page>); without ?limit= it answers every collection from the cursor on,
// as it did before it paged.
func (s *Server) adminCollections(c *fiber.Ctx) error {
	limit, err := optionalListLimit(c)
	if err != nil {
		return err
	}
	after, err := cursorParam(c, "after")
	if err != nil {
		return err
	}
	names, err := s.store.Collections(c.UserContext())
	if err != nil {
		return err
	}
	infos := map[string]*collectionInfo{}
	info := func(name string) *collectionInfo {
		if infos[name] == nil {
			col := s.cfg.Collections[name]
			acc := col.Access()
			infos[name] = &collectionInfo{Name: name, Read: acc.Read, Write: acc.Write, Indexes: col.Indexes}
			if infos[name].Indexes == nil {
				infos[name].Indexes = []IndexConfig{}
			}
		}
		return infos[name]
	}
	for _, name := range names {
		if !db.IsSystemCollection(name) {
			info(name).Exists = true
		}
	}
	for name := range s.cfg.Collections {
		info(name).Configured = true
	}
	list := make([]*collectionInfo, 0, len(infos))
	for _, ci := range infos {
		list = append(list, ci)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	// A store holds tens of collections, not thousands: the page is cut
	// from the whole list, which the store answers from its catalogue.
	from := sort.Search(len(list), func(i int) bool { return list[i].Name > after })
	list = list[from:]
	next := ""
	if limit > 0 && len(list) > limit {
		list = list[:limit]
		next = list[limit-1].Name
	}
	return c.JSON(fiber.Map{"collections": list, "next": next})
}
