package gatewaytest

import (
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// UpdateRecords changes a chain's stored records in the bolt file at
// path, behind the store's back, as someone with access to the file could
// (stop the gateway first: it holds the file's lock). rec maps seq (8
// bytes, big endian) to the record's JSON.
func UpdateRecords(t testing.TB, path, chain string, change func(rec *bbolt.Bucket) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		return change(tx.Bucket([]byte("chains")).Bucket([]byte(chain)).Bucket([]byte("rec")))
	})
	if err != nil {
		t.Fatal(err)
	}
}
