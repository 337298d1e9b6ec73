package relay

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relayapi"
)

// An account's sealed records: what its user's nodes keep here of the
// user's communities and profile so that a new device restores them
// (docs/protocol.md, "Device restore"). The relay stores them, bounded,
// and never opens them.

func (r *Relay) handleRecords(w http.ResponseWriter, req *http.Request, acct store.Account) {
	rs, err := r.store.Records(req.Context(), acct.ID)
	if err != nil {
		r.internal(w, err)
		return
	}
	out := relayapi.Records{Records: make([]relayapi.Record, 0, len(rs))}
	for _, rec := range rs {
		out.Records = append(out.Records, relayapi.Record{ID: rec.ID, Sealed: rec.Sealed, UpdatedAt: rec.UpdatedAt.UTC()})
	}
	httpjson.JSON(w, http.StatusOK, out)
}

func (r *Relay) handlePutRecord(w http.ResponseWriter, req *http.Request, acct store.Account) {
	id := req.PathValue("id")
	if !relayapi.ValidRecordID(id) {
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_record_id",
			fmt.Sprintf("a record ID is 1 to %d characters of A-Z, a-z, 0-9, - and _", relayapi.MaxRecordID))
		return
	}
	var body relayapi.RecordPut
	if err := httpjson.Decode(req, &body); err != nil {
		var notBase64 base64.CorruptInputError
		if errors.As(err, &notBase64) {
			httpjson.Error(w, http.StatusUnprocessableEntity, "bad_base64", "sealed must be base64")
			return
		}
		writeErr(w, err)
		return
	}
	switch {
	case len(body.Sealed) == 0:
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_record", "sealed must not be empty")
		return
	case len(body.Sealed) > relayapi.MaxRecordBytes:
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("a sealed record is at most %d bytes", relayapi.MaxRecordBytes))
		return
	}
	err := r.store.PutRecord(req.Context(), acct.ID, store.Record{ID: id, Sealed: body.Sealed}, relayapi.MaxRecords)
	if errors.Is(err, store.ErrFull) {
		httpjson.Error(w, http.StatusConflict, "too_many_records",
			fmt.Sprintf("an account holds at most %d records", relayapi.MaxRecords))
		return
	}
	if err != nil {
		r.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *Relay) handleDeleteRecord(w http.ResponseWriter, req *http.Request, acct store.Account) {
	err := r.store.DeleteRecord(req.Context(), acct.ID, req.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such record")
		return
	}
	if err != nil {
		r.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
