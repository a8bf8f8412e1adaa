module sealdesk

go 1.26.8

require (
	github.com/emmansun/gmsm v0.44.1
	golang.org/x/term v0.48.0
)

require (
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
