package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/consentgate/consentgate/consent/store"
)

// metrics are consentgate's Prometheus metrics, on Caddy's registry. No
// label ever identifies a visitor.
type metrics struct {
	decisions      *prometheus.CounterVec // by how the choice was made
	proofsWritten  prometheus.Counter
	proofErrors    prometheus.Counter
	pagesRewritten prometheus.Counter
	blocked        prometheus.Counter
	pageCacheHits  prometheus.Counter
}

// registerMetrics registers the metrics (again on every provision: an
// already registered collector is reused).
func registerMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		decisions: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caddy_consent_decisions_total",
			Help: "Consent decisions recorded, by method (accept_all, reject_all, save_selection, withdraw, load_embed; signal and expire for automatic ones).",
		}, []string{"method"})),
		proofsWritten: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "caddy_consent_proofs_written_total",
			Help: "Consent proofs sealed and handed to the store (or its spool).",
		})),
		proofErrors: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "caddy_consent_proof_errors_total",
			Help: "Consent proofs that could be neither stored nor spooled.",
		})),
		pagesRewritten: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "caddy_consent_pages_rewritten_total",
			Help: "HTML pages rewritten for the visitor's consent.",
		})),
		blocked: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "caddy_consent_elements_blocked_total",
			Help: "Elements neutralised because their vendor lacked consent.",
		})),
		pageCacheHits: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "caddy_consent_page_cache_hits_total",
			Help: "Rewritten pages answered from the page cache (the upstream's page compared byte for byte with the cached one).",
		})),
	}
	sum := func(f func(store.ResilientStats) float64) func() float64 {
		return func() float64 {
			var total float64
			sinks.Range(func(_, v any) bool {
				if s := v.(*proofSink); s.opened.Load() { // (a sink not yet opened has done nothing)
					total += f(s.resil.Stats())
				}
				return true
			})
			return total
		}
	}
	// The spool's and the store's counts, summed over the sinks.
	for _, c := range []struct {
		name, help string
		gauge      bool
		of         func(store.ResilientStats) float64
	}{
		{"caddy_consent_proofs_spooled_total", "Proofs written to the local spool because the store was unreachable or too slow to wait for.", false,
			func(s store.ResilientStats) float64 { return float64(s.Spooled) }},
		{"caddy_consent_proofs_replayed_total", "Spooled proofs replayed to the store.", false,
			func(s store.ResilientStats) float64 { return float64(s.Replayed) }},
		{"caddy_consent_store_errors_total", "Failed writes to the proof store.", false,
			func(s store.ResilientStats) float64 { return float64(s.StoreErrors) }},
		{"caddy_consent_store_writes_total", "Batches of proofs written to the store (answered either way; replays not counted).", false,
			func(s store.ResilientStats) float64 { return float64(s.Writes) }},
		{"caddy_consent_store_write_seconds_total", "Time the store took to answer those writes; divided by caddy_consent_store_writes_total, its latency as the gateway sees it.", false,
			func(s store.ResilientStats) float64 { return s.WriteTime.Seconds() }},
		{"caddy_consent_store_slow_writes_total", "Writes to the store not answered within spool_after (or while too many proofs queued behind them): their proofs were spooled.", false,
			func(s store.ResilientStats) float64 { return float64(s.SlowWrites) }},
		{"caddy_consent_proofs_rejected", "Spooled proofs the store refused for good, kept in the spool's rejected.log (counted from the file: until it is moved away).", true,
			func(s store.ResilientStats) float64 { return float64(s.Rejected) }},
		{"caddy_consent_proofs_pending", "Proofs waiting in the local spool.", true,
			func(s store.ResilientStats) float64 { return float64(s.Pending) }},
	} {
		if c.gauge {
			register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: c.name, Help: c.help}, sum(c.of)))
		} else {
			register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, sum(c.of)))
		}
	}
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "caddy_consent_page_cache_bytes",
		Help: "Memory the page caches hold, with what pages being recorded have reserved.",
	}, func() float64 {
		var total int64
		pageCaches.Range(func(c, _ any) bool {
			total += c.(*pageCache).usedBytes()
			return true
		})
		return float64(total)
	}))
	return m
}

// register registers c, or returns the collector registered before it.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
