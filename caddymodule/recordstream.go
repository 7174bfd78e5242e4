package caddymodule

import (
	"encoding/json"
	"net/http"

	"github.com/consentgate/consentgate/consent/proof"
)

// recordStream writes {"consent_id": …, "records": […]} one record at a
// time, so that a consent id with thousands of records (a script posting
// choices with one cookie) costs a record of memory, not all of them. The
// headers and the opening go out with the first record, or at close when
// there is none, so an error before that can still be answered with its
// status; after it, abortIfStarted cuts the answer short, and the unclosed
// JSON tells the client it is incomplete.
type recordStream struct {
	w         http.ResponseWriter
	consentID string
	// disposition, when set, is the Content-Disposition of the answer, set
	// with its other headers: an error answered instead is no download.
	disposition string
	records     int
}

func (s *recordStream) add(r proof.Record) error {
	rec, err := json.MarshalIndent(r, "    ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n    "
	if s.records == 0 {
		if err := s.open(); err != nil {
			return err
		}
		sep = "\n    "
	}
	s.records++
	_, err = s.w.Write(append([]byte(sep), rec...))
	return err
}

func (s *recordStream) open() error {
	id, err := json.Marshal(s.consentID)
	if err != nil {
		return err
	}
	setJSONHeaders(s.w.Header())
	if s.disposition != "" {
		s.w.Header().Set("Content-Disposition", s.disposition)
	}
	_, err = s.w.Write(append(append([]byte("{\n  \"consent_id\": "), id...), ",\n  \"records\": ["...))
	return err
}

// close ends the answer, writing the opening first when no record came.
func (s *recordStream) close() error {
	end := "\n  ]\n}\n"
	if s.records == 0 {
		if err := s.open(); err != nil {
			return err
		}
		end = "]\n}\n"
	}
	_, err := s.w.Write([]byte(end))
	return err
}

// abortIfStarted ends the connection when part of the answer is out: an
// error then has no status to go in.
func (s *recordStream) abortIfStarted() {
	if s.records > 0 {
		panic(http.ErrAbortHandler)
	}
}
