package axis_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/pgtest"
	"github.com/axis-h40/axis/internal/testgen"
)

func benchPool(b *testing.B, n, attach int) [][]byte {
	b.Helper()
	pool := make([][]byte, n)
	for i := range pool {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("B%d", i)
		m.Attachments = append(m.Attachments, envelope.NewAttachment("cid:9", "a.bin", "application/zip", make([]byte, attach)))
		pool[i] = fixture.Sign(b, m)
	}
	return pool
}

// intakeAll has h take every envelope of pool as caller, from 16 clients
// per core, timed.
func intakeAll(b *testing.B, h *axis.Hub, caller axis.Caller, pool [][]byte) {
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, created, err := h.Intake(context.Background(), caller, pool[next.Add(1)-1]); err != nil || !created {
				b.Error(err, created)
			}
		}
	})
}

// BenchmarkIntake20KB is Hub.Intake (verify, route, commit with fsync) without
// HTTP, next to BenchmarkVerifyOnly20KB on the same kind of envelopes.
func BenchmarkIntake20KB(b *testing.B) {
	pool := benchPool(b, b.N, 14000)
	intakeAll(b, testhub.Open(b, testhub.Options{KeepPeers: true}), axis.Caller{Agency: testgen.Commune}, pool)
}

func BenchmarkVerifyOnly20KB(b *testing.B) {
	pool := benchPool(b, 200, 14000)
	v := fixture.Verifier(b)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(pool[next.Add(1)%200]); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkIntakeDirective240 is Hub.Intake of the province-wide directive:
// one envelope to 239 district and commune offices and a department.
func BenchmarkIntakeDirective240(b *testing.B) {
	var to []envelope.Organization
	for _, a := range testgen.DemoProvince() {
		if a.OrganID != testgen.Province && len(to) < 240 {
			to = append(to, envelope.Organization{OrganID: a.OrganID})
		}
	}
	pool := make([][]byte, b.N)
	for i := range pool {
		m := testgen.NewDocument()
		m.From = testgen.Organ(testgen.Province)
		m.To = to
		m.Code.CodeNumber = fmt.Sprintf("D%d", i)
		pool[i] = fixture.Sign(b, m)
	}
	intakeAll(b, testhub.Open(b, testhub.Options{KeepPeers: true}), axis.Caller{Agency: testgen.Province}, pool)
}

// BenchmarkIntakeEngines is BenchmarkIntake20KB on each engine and
// layout: bbolt; PostgreSQL (its own cluster, fsync and
// synchronous_commit on, as in production) with one hub; the same with a
// synchronous standby (every commit waits for it); and three hubs (nodes)
// on one database, the clients spread over them. The nodes run in this
// process, as the clients do, so on a small machine they share its cores
// with each other, with PostgreSQL and with the clients.
func BenchmarkIntakeEngines(b *testing.B) {
	caller := axis.Caller{Agency: testgen.Commune}
	onPostgres := func(b *testing.B, dsn string, nodes int) []*axis.Hub {
		env := fmt.Sprintf("AXIS_BENCH_DSN_%d", benchDSNs.Add(1))
		os.Setenv(env, dsn)
		b.Cleanup(func() { os.Unsetenv(env) })
		var hubs []*axis.Hub
		for i := 0; i < nodes; i++ {
			hubs = append(hubs, testhub.Open(b, testhub.Options{KeepPeers: true, Configure: func(c *axis.Config) {
				c.Store = axis.StoreConfig{Engine: axis.EnginePostgres, DSNEnv: env}
				c.Cluster.Node = fmt.Sprintf("node-%d", i+1)
			}}))
		}
		return hubs
	}
	b.Run("bbolt", func(b *testing.B) {
		pool := benchPool(b, b.N, 14000)
		intakeAll(b, testhub.Open(b, testhub.Options{KeepPeers: true, Configure: func(c *axis.Config) { c.Store = axis.StoreConfig{Engine: axis.EngineBolt} }}), caller, pool)
	})
	database := func(b *testing.B, standby bool) string { // a cluster of its own, and its DSN
		pg := pgtest.Start(b, pgtest.Options{})
		pg.Exec(b, "CREATE DATABASE axis")
		if standby {
			pg.Standby(b, "standby1")
			pg.SetSynchronous(b, "standby1")
		}
		return pg.DSN("axis")
	}
	b.Run("postgres", func(b *testing.B) {
		pool := benchPool(b, b.N, 14000)
		intakeAll(b, onPostgres(b, database(b, false), 1)[0], caller, pool)
	})
	b.Run("postgres-sync-standby", func(b *testing.B) {
		pool := benchPool(b, b.N, 14000)
		intakeAll(b, onPostgres(b, database(b, true), 1)[0], caller, pool)
	})
	b.Run("postgres-3nodes", func(b *testing.B) {
		pool := benchPool(b, b.N, 14000)
		hubs := onPostgres(b, database(b, false), 3)
		var next atomic.Int64
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1) - 1
				if _, created, err := hubs[i%3].Intake(context.Background(), caller, pool[i]); err != nil || !created {
					b.Error(err, created)
				}
			}
		})
	})
}

var benchDSNs atomic.Int64
