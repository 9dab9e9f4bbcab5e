package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// Names of the server-side objects.
const (
	Stream        = "NADIR_TRIALS"
	Subject       = "nadir.trials"
	Consumer      = "nadir-workers"
	ResultsBucket = "nadir-results"
	RunsBucket    = "nadir-runs"
	// TrialHeader carries a message's trial ID.
	TrialHeader = "Nadir-Trial"
	// MaxDeliverHeader carries the submitter's MaxDeliver.
	MaxDeliverHeader = "Nadir-Max-Deliver"
)

// Options tune delivery; zero values take the defaults.
type Options struct {
	// AckWait is how long a worker may hold a trial without a heartbeat
	// before it is redelivered (default 30s).
	AckWait time.Duration
	// MaxDeliver is how many deliveries a trial gets before it is
	// dead-lettered (default 3). It travels with each trial (a header) and
	// workers enforce it, so that a trial whose workers all died is
	// dead-lettered by the next worker that sees it, whoever submitted it.
	MaxDeliver int
}

func (o Options) withDefaults() Options {
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 3
	}
	return o
}

// Queue is an open connection to the trial stream, consumer and buckets.
type Queue struct {
	NC       *nats.Conn
	JS       njs.JetStream
	Stream   njs.Stream
	Consumer njs.Consumer
	Results  njs.KeyValue
	Runs     njs.ObjectStore
	// Opts are the consumer's AckWait and the MaxDeliver this queue's
	// submissions carry.
	Opts Options
}

// Open creates (or finds) the stream, consumer and buckets. With configure
// set, the consumer's AckWait is set to opts (the submitter's choice);
// otherwise an existing consumer is used as it is and opts only apply when
// it must be created (a worker). The consumer itself redelivers without
// limit: MaxDeliver is the workers' business.
func Open(ctx context.Context, nc *nats.Conn, opts Options, configure bool) (*Queue, error) {
	opts = opts.withDefaults()
	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	q := &Queue{NC: nc, JS: js}
	if q.Stream, err = js.CreateOrUpdateStream(ctx, njs.StreamConfig{
		Name:      Stream,
		Subjects:  []string{Subject},
		Retention: njs.WorkQueuePolicy,
		Storage:   njs.FileStorage,
	}); err != nil {
		return nil, fmt.Errorf("stream %s: %w", Stream, err)
	}
	cc := njs.ConsumerConfig{
		Durable:       Consumer,
		AckPolicy:     njs.AckExplicitPolicy,
		AckWait:       opts.AckWait,
		MaxDeliver:    -1,
		FilterSubject: Subject,
	}
	if configure {
		q.Consumer, err = js.CreateOrUpdateConsumer(ctx, Stream, cc)
	} else if q.Consumer, err = js.Consumer(ctx, Stream, Consumer); errors.Is(err, njs.ErrConsumerNotFound) {
		q.Consumer, err = js.CreateConsumer(ctx, Stream, cc)
		if errors.Is(err, njs.ErrConsumerExists) {
			q.Consumer, err = js.Consumer(ctx, Stream, Consumer)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", Consumer, err)
	}
	info := q.Consumer.CachedInfo()
	q.Opts = Options{AckWait: info.Config.AckWait, MaxDeliver: opts.MaxDeliver}
	// History 5 rather than 1: a second write of a result would stay
	// visible (it never happens: results are written with Create).
	if q.Results, err = js.CreateOrUpdateKeyValue(ctx, njs.KeyValueConfig{Bucket: ResultsBucket, History: 5, Storage: njs.FileStorage}); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", ResultsBucket, err)
	}
	if q.Runs, err = js.CreateOrUpdateObjectStore(ctx, njs.ObjectStoreConfig{Bucket: RunsBucket, Storage: njs.FileStorage}); err != nil {
		return nil, fmt.Errorf("object store %s: %w", RunsBucket, err)
	}
	return q, nil
}

// Connect dials a NATS server by URL, retrying the first connection for a
// few seconds and reconnecting forever after.
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("--nats %s: %v", url, err)
	}
	return nc, nil
}

// Embedded starts a JetStream server inside this process, storing its
// streams under storeDir and opening no network port: clients reach it
// with ConnectEmbedded.
func Embedded(storeDir string) (*server.Server, error) {
	ns, err := server.NewServer(&server.Options{
		ServerName: "nadir-embedded",
		JetStream:  true,
		StoreDir:   storeDir,
		DontListen: true,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded NATS server did not start within 10s")
	}
	return ns, nil
}

// ConnectEmbedded opens an in-process connection to an embedded server.
func ConnectEmbedded(ns *server.Server, name string) (*nats.Conn, error) {
	return nats.Connect(ns.ClientURL(), nats.InProcessServer(ns), nats.Name(name))
}
