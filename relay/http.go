package relay

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relayapi"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxBody bounds request bodies: the largest is a carry request, whose
// genesis op is at most crdt's 64 KiB op limit, in base64.
const maxBody = 128 << 10

// routes is the relay's HTTP API (docs/api/relay.yaml).
func (r *Relay) routes() http.Handler {
	mux := http.NewServeMux()
	r.accounts.Routes(mux)
	r.invites.Routes(mux)
	mux.HandleFunc("GET /info", r.handleInfo)
	mux.HandleFunc("GET /healthz", r.handleHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{}))
	mux.Handle("POST /communities", r.accounts.Require(r.handleCarry))
	mux.Handle("GET /communities", r.accounts.Require(r.handleCarried))
	mux.Handle("DELETE /communities/{id}", r.accounts.Require(r.handleUncarry))
	mux.Handle("GET /records", r.accounts.Require(r.handleRecords))
	mux.Handle("PUT /records/{id}", r.accounts.Require(r.handlePutRecord))
	mux.Handle("DELETE /records/{id}", r.accounts.Require(r.handleDeleteRecord))
	mux.Handle("POST /turn/credentials", r.accounts.Require(r.handleTURN))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, req)
	})
}

func (r *Relay) handleInfo(w http.ResponseWriter, _ *http.Request) {
	httpjson.JSON(w, http.StatusOK, relayapi.Info{Peer: r.host.ID().String(), Addrs: r.Addrs()})
}

func (r *Relay) handleHealth(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	if err := r.store.Ping(ctx); err != nil {
		httpjson.Error(w, http.StatusServiceUnavailable, "database_unavailable", "the database does not answer")
		return
	}
	httpjson.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (r *Relay) handleCarry(w http.ResponseWriter, req *http.Request, acct store.Account) {
	var body relayapi.CarryRequest
	if err := httpjson.Decode(req, &body); err != nil {
		var notBase64 base64.CorruptInputError
		if errors.As(err, &notBase64) {
			httpjson.Error(w, http.StatusUnprocessableEntity, "bad_base64", "genesis, topic_secret and proof must be base64")
			return
		}
		writeErr(w, err)
		return
	}
	genesis, secret, proof := body.Genesis, body.TopicSecret, body.Proof
	if len(secret) < 16 || len(secret) > 64 {
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_secret", "the topic secret must be 16 to 64 bytes")
		return
	}
	op, err := r.verifier.Decode(genesis, time.Now())
	if err != nil || op.Kind != crdt.KindGenesis {
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_genesis", "genesis is not a valid genesis op")
		return
	}
	if !crdt.VerifyCarry(op.User(), op.ID, secret, proof) {
		httpjson.Error(w, http.StatusForbidden, "not_owner", "the proof is not the community owner's signature")
		return
	}
	ctx := req.Context()
	if prev, err := r.store.Community(ctx, op.ID); err == nil && prev.AccountID != acct.ID {
		httpjson.Error(w, http.StatusConflict, "carried_elsewhere", "another account registered this community")
		return
	}
	if err := r.store.PutCommunity(ctx, store.Community{ID: op.ID, TopicSecret: secret, AccountID: acct.ID}); err != nil {
		r.internal(w, err)
		return
	}
	if _, err := r.store.PutOps(ctx, []*crdt.Op{op}, nil); err != nil {
		r.internal(w, err)
		return
	}
	r.uncarry(op.ID) // a new secret means new topics
	if err := r.carry(context.WithoutCancel(ctx), op.ID, secret); err != nil {
		r.internal(w, err)
		return
	}
	r.log.Info("carrying community", "community", op.ID, "account", acct.ID)
	httpjson.JSON(w, http.StatusCreated, relayapi.CarriedCommunity{ID: op.ID.String(), CreatedAt: time.Now().UTC()})
}

func (r *Relay) handleCarried(w http.ResponseWriter, req *http.Request, acct store.Account) {
	all, err := r.store.Communities(req.Context())
	if err != nil {
		r.internal(w, err)
		return
	}
	out := relayapi.CarriedCommunities{Communities: []relayapi.CarriedCommunity{}}
	for _, c := range all {
		if c.AccountID == acct.ID {
			out.Communities = append(out.Communities, relayapi.CarriedCommunity{ID: c.ID.String(), CreatedAt: c.CreatedAt})
		}
	}
	httpjson.JSON(w, http.StatusOK, out)
}

func (r *Relay) handleUncarry(w http.ResponseWriter, req *http.Request, acct store.Account) {
	id, err := crdt.ParseID(req.PathValue("id"))
	if err != nil {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such community here")
		return
	}
	c, err := r.store.Community(req.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.AccountID != acct.ID) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such community here")
		return
	}
	if err != nil {
		r.internal(w, err)
		return
	}
	r.uncarry(id)
	if err := r.store.DeleteCommunity(req.Context(), id); err != nil {
		r.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeErr(w http.ResponseWriter, err error) {
	var se *httpjson.StatusError
	if errors.As(err, &se) {
		httpjson.Error(w, se.Status, se.Code, se.Message)
		return
	}
	httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error")
}

func (r *Relay) internal(w http.ResponseWriter, err error) {
	r.log.Error("http", "err", err)
	httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error")
}
