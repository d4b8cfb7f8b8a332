// Package benchpg gives a bench harness a PostgreSQL database of its own: the DSN the user passed, or a database
// created on $VIGIL_TEST_POSTGRES (an admin DSN) and dropped when the harness is done.
package benchpg

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Database returns dsn when it is set (an empty database the user gave), else a new database named prefix_PID on
// $VIGIL_TEST_POSTGRES; drop removes what it created.
func Database(dsn, prefix string) (_ string, drop func(), _ error) {
	if dsn != "" {
		return dsn, func() {}, nil
	}
	admin := os.Getenv("VIGIL_TEST_POSTGRES")
	if admin == "" {
		return "", nil, errors.New("-engine postgres needs -db or $VIGIL_TEST_POSTGRES")
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	defer adb.Close()
	name := fmt.Sprintf("%s_%d", prefix, os.Getpid())
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		if adb, err := sql.Open("pgx", admin); err == nil {
			adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			adb.Close()
		}
	}, nil
}
