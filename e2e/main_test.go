package e2e_test

import (
	"os"
	"testing"

	"nineten.dev/testkit/pgtest"
	"nineten.dev/testkit/s3test"
)

// TestMain stops the PostgreSQL cluster and the S3 server the tests
// started, after them.
func TestMain(m *testing.M) { os.Exit(pgtest.Run(runFunc(func() int { return s3test.Run(m) }))) }

type runFunc func() int

func (f runFunc) Run() int { return f() }
