module github.com/goxpc/goxpc

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/smallstep/pkcs7 v0.2.3
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.49.0
	howett.net/plist v1.0.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
