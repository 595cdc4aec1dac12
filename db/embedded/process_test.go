package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// Environment of the child processes the tests below start from this
// same test binary.
const (
	envRole = "MOONBASE_EMBEDDED_TEST_ROLE"
	envDir  = "MOONBASE_EMBEDDED_TEST_DIR"
	envName = "MOONBASE_EMBEDDED_TEST_NAME"
)

// Work each sharing process does.
const (
	shareInserts    = 150
	shareIncrements = 100
	shareUniqueKeys = 40
)

// TestHelperProcess is not a test: it is the body of the child processes.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("runs only as a child process of the other tests")
	}
	s, err := Open(Config{Dir: os.Getenv(envDir)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	switch role {
	case "share":
		var wins int
		wins, err = shareWork(s, os.Getenv(envName))
		fmt.Printf("unique-wins %d\n", wins)
	case "durable":
		err = durableWork(s)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, role+":", err)
		os.Exit(1)
	}
	s.Close(context.Background())
	fmt.Println("done")
	os.Exit(0)
}

// shareWork inserts, reads, increments a shared counter and races for
// unique keys, interleaved, while other processes do the same.
func shareWork(s *Store, name string) (int, error) {
	ctx := context.Background()
	docs, counter, keys := s.C("shared"), s.C("counter"), s.C("keys")
	uniqueWins := 0
	for i := 0; i < shareInserts; i++ {
		if _, err := docs.InsertOne(ctx, bson.M{"by": name, "i": i}); err != nil {
			return 0, fmt.Errorf("insert %d: %w", i, err)
		}
		mine, err := docs.Count(ctx, bson.M{"by": name})
		if err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		if mine != int64(i+1) {
			return 0, fmt.Errorf("after %d inserts this process sees %d of its documents", i+1, mine)
		}
		if i < shareIncrements {
			if _, err := counter.UpdateOne(ctx, bson.M{"_id": "c"}, bson.M{"$inc": bson.M{"n": 1}}, &db.UpdateOptions{Upsert: true}); err != nil {
				return 0, fmt.Errorf("increment: %w", err)
			}
		}
		if i < shareUniqueKeys {
			_, err := keys.InsertOne(ctx, bson.M{"key": i, "by": name})
			switch {
			case err == nil:
				uniqueWins++
			case !errors.Is(err, db.ErrDuplicateKey):
				return 0, fmt.Errorf("unique insert: %w", err)
			}
		}
	}
	return uniqueWins, nil
}

// durableWork acknowledges each insert on stdout the moment InsertOne
// returns, until it is killed.
func durableWork(s *Store) error {
	ctx := context.Background()
	c := s.C("durable")
	for i := 0; ; i++ {
		id := "doc-" + strconv.Itoa(i)
		if _, err := c.InsertOne(ctx, bson.M{"_id": id, "payload": strings.Repeat("x", 512)}); err != nil {
			return err
		}
		fmt.Println("acked", id)
	}
}

func helper(t *testing.T, dir, role, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), envRole+"="+role, envDir+"="+dir, envName+"="+name)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestTwoProcessesShareADirectory runs two OS processes (and this one) on
// one data directory at once: every write lands exactly once, counts are
// exact, the shared counter is atomic, each unique key has one winner and
// no "database is locked" ever surfaces.
func TestTwoProcessesShareADirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	dir := t.TempDir()
	s := openDir(t, dir)
	ctx := context.Background()
	mustIndex(t, s.C("keys"), true, "key")
	mustIndex(t, s.C("shared"), false, "by")

	names := []string{"p1", "p2"}
	var wg sync.WaitGroup
	outputs := make([]string, len(names))
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Add(1)
		go func(i int, name string) {
			defer wg.Done()
			out, err := helper(t, dir, "share", name).Output()
			outputs[i], errs[i] = string(out), err
		}(i, name)
	}
	// This process writes and reads alongside them.
	mine, err := shareWork(s, "p0")
	if err != nil {
		t.Error(err)
	}
	wg.Wait()
	wins := mine
	for i, out := range outputs {
		if errs[i] != nil {
			t.Fatalf("process %s: %v\n%s", names[i], errs[i], out)
		}
		var w int
		if _, err := fmt.Sscanf(out, "unique-wins %d", &w); err != nil {
			t.Fatalf("process %s printed %q", names[i], out)
		}
		wins += w
	}
	n, err := s.C("shared").Count(ctx, nil)
	if err != nil || n != 3*shareInserts {
		t.Fatalf("shared documents = %d, %v; want %d", n, err, 3*shareInserts)
	}
	for _, name := range append(names, "p0") {
		if n, _ := s.C("shared").Count(ctx, bson.M{"by": name}); n != shareInserts {
			t.Errorf("documents by %s = %d, want %d", name, n, shareInserts)
		}
	}
	counter, err := s.C("counter").FindOne(ctx, db.ByID("c"), nil)
	if err != nil || counter["n"] != int32(3*shareIncrements) {
		t.Fatalf("counter = %v, %v; want %d", counter, err, 3*shareIncrements)
	}
	if n, _ := s.C("keys").Count(ctx, nil); n != shareUniqueKeys {
		t.Fatalf("unique keys stored = %d, want %d", n, shareUniqueKeys)
	}
	if wins != shareUniqueKeys {
		t.Fatalf("unique wins = %d, want %d", wins, shareUniqueKeys)
	}
}

// TestAcknowledgedWritesSurviveSIGKILL kills a writing process the moment
// it acknowledges a write, and finds that write after reopening.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		cmd := helper(t, dir, "durable", "")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		var acked []string
		// Let it run for a few writes, then kill it right on an ack.
		for lines.Scan() {
			if id, ok := strings.CutPrefix(lines.Text(), "acked "); ok {
				acked = append(acked, id)
				if len(acked) == 5+round*20 {
					cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			}
		}
		cmd.Wait()
		if len(acked) == 0 {
			t.Fatal("the child acknowledged nothing")
		}
		s := openDir(t, dir)
		c := s.C("durable")
		for _, id := range acked {
			if _, err := c.FindOne(context.Background(), db.ByID(id), nil); err != nil {
				t.Fatalf("round %d: acknowledged %s is gone after SIGKILL: %v", round, id, err)
			}
		}
		s.Close(context.Background())
	}
}
