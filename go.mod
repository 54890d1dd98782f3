module github.com/axis-h40/axis

go 1.26.8

require (
	github.com/beevik/etree v1.8.1
	github.com/russellhaering/goxmldsig v1.6.1
)

require (
	github.com/jonboulle/clockwork v0.5.0 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
