package s3_test

import (
	"testing"

	nineten "nineten.dev"
	"nineten.dev/blob/s3"
	"nineten.dev/testkit/blobtest"
	"nineten.dev/testkit/s3test"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// open makes a store on a fresh bucket of the test S3 service.
func open(t *testing.T) (*s3.Store, s3test.Bucket) {
	t.Helper()
	b := s3test.NewBucket(t)
	c, err := s3.ParseURL(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.Creds = credentials.NewStaticV4(b.AccessKey, b.SecretKey, "")
	s, err := s3.Open(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func TestS3Store(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) nineten.BlobStore {
		s, _ := open(t)
		return s
	})
}

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]s3.Config{
		"s3://media":                                       {Bucket: "media", Endpoint: "s3.amazonaws.com"},
		"s3://media/node-a/?region=eu-west-3":              {Bucket: "media", Prefix: "node-a", Endpoint: "s3.amazonaws.com", Region: "eu-west-3"},
		"s3://m?endpoint=127.0.0.1:9000&insecure=1":        {Bucket: "m", Endpoint: "127.0.0.1:9000", Insecure: true},
		"s3://m?endpoint=127.0.0.1:9000&tls=0":             {Bucket: "m", Endpoint: "127.0.0.1:9000", Insecure: true},
		"s3://m?endpoint=http://garage.lan:3900":           {Bucket: "m", Endpoint: "garage.lan:3900", Insecure: true},
		"s3://m?endpoint=https://minio.example&style=path": {Bucket: "m", Endpoint: "minio.example", Style: "path"},
		"s3://m?style=virtual&tls=1":                       {Bucket: "m", Endpoint: "s3.amazonaws.com", Style: "virtual"},
		"s3://m?iam=1&region=us-west-2":                    {Bucket: "m", Endpoint: "s3.amazonaws.com", Region: "us-west-2", IAM: true},
	} {
		got, err := s3.ParseURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"media", "/srv/media", "s3://", "https://bucket", "s3://m?colour=red", "s3://m?insecure=maybe",
		"s3://m?style=sideways", "s3://m?iam=please", "s3://key:secret@m", "s3://m/../x", "s3://m/a//b",
	} {
		if _, err := s3.ParseURL(raw); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("ParseURL(%q) = %v, want KindInvalid", raw, err)
		}
	}
}
