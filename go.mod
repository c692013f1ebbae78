module github.com/goxpc/goxpc

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/smallstep/pkcs7 v0.2.3 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	howett.net/plist v1.0.1 // indirect
)
