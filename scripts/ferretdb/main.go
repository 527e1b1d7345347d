// Command teller-ferretdb runs FerretDB embedded, on its SQLite backend, as the
// MongoDB-compatible server of a local Teller stack. It listens on loopback
// only and stops cleanly on SIGTERM or SIGINT.
//
// The upstream cmd/ferretdb binary built with a plain `go install` panics at
// start, so Teller embeds the library instead.
//
// scripts/install.sh builds it against FerretDB's source with the patches in
// patches/ applied (reads that search the SQLite indexes); a plain `go build`
// here builds against the published module, unpatched.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	port := flag.Int("port", envInt("FERRETDB_PORT", 27117), "TCP port on 127.0.0.1 (env FERRETDB_PORT)")
	dataDir := flag.String("data", envStr("FERRETDB_DATA_DIR", ".data/ferretdb"), "SQLite data directory (env FERRETDB_DATA_DIR)")
	// At warn FerretDB logs every client's endSessions (a command it lacks) and every closed connection.
	level := flag.String("log-level", envStr("FERRETDB_LOG_LEVEL", "error"), "debug, info, warn or error (env FERRETDB_LOG_LEVEL)")
	// SQLite's own default is full. In WAL mode (FerretDB's), normal syncs the WAL only at checkpoints:
	// a commit survives a crash of this process, and may be lost with the machine's power.
	synchronous := flag.String("synchronous", envStr("FERRETDB_SQLITE_SYNCHRONOUS", "full"), "SQLite's synchronous pragma: normal, full or extra (env FERRETDB_SQLITE_SYNCHRONOUS)")
	// SQLite reads the pages it maps straight from the kernel's page cache, where
	// each page it reads otherwise costs a pread system call: a statement page
	// reads each of the account's entries from its own page, and the calls were
	// a sixth of FerretDB's CPU on a grown ledger. SQLite maps the file read-only
	// (writes still go through pwrite), and maps at most 2147418112 bytes.
	mmapBytes := flag.Int64("mmap-bytes", 2147418112, "bytes of the database SQLite reads through a memory map; 0: none")
	flag.Parse()

	// Go's default (100) collects whenever the heap doubles. FerretDB's live heap
	// is a few tens of megabytes, and each read decodes its documents into fresh
	// objects, so collections took a tenth of its CPU; 400 trades some tens of
	// megabytes for a quarter of the collections. GOGC set in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	switch *synchronous {
	case "normal", "full", "extra":
	default:
		fmt.Fprintf(os.Stderr, "teller-ferretdb: -synchronous must be normal, full or extra, not %q\n", *synchronous)
		os.Exit(2)
	}

	if *mmapBytes < 0 {
		fmt.Fprintf(os.Stderr, "teller-ferretdb: -mmap-bytes must be 0 or more, not %d\n", *mmapBytes)
		os.Exit(2)
	}

	if err := run(*port, *dataDir, *level, *synchronous, *mmapBytes); err != nil {
		fmt.Fprintf(os.Stderr, "teller-ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run(port int, dataDir, level, synchronous string, mmapBytes int64) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("bad log level %q: %w", level, err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	// FerretDB expects the SQLite directory to exist already.
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: fmt.Sprintf("127.0.0.1:%d", port)},
		Logger:   logger,
		Handler:  "sqlite",
		// FerretDB adds its own pragmas (busy_timeout, journal_mode(wal), auto_vacuum) to those the URL names.
		SQLiteURL: fmt.Sprintf("file:%s/?_pragma=synchronous(%s)&_pragma=mmap_size(%d)", abs, synchronous, mmapBytes),
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	fmt.Fprintf(os.Stderr, "teller-ferretdb: FerretDB 1.24.2 (SQLite, synchronous=%s, mmap_size=%d) on 127.0.0.1:%d, data in %s\n", synchronous, mmapBytes, port, abs)
	return f.Run(ctx)
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}
