// Package s3 stores media blobs as objects in a bucket of an S3-compatible
// object store (AWS S3, MinIO, Garage, versitygw, …) through minio-go.
//
// S3 gives the port's guarantees natively: an object appears only when its
// upload completes (a single PUT, or the completion of a multipart upload),
// so readers see the old object or the whole new one. Uploads stream in
// parts and reads are ranged GETs, so no file is ever held whole in memory.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	nineten "nineten.dev"
)

// DefaultPartSize is the size of each part of a multipart upload. A Put of
// unknown length holds one part in memory, so this bounds the memory of an
// upload; with S3's 10,000 parts it allows objects up to 160 GiB.
const DefaultPartSize = 16 << 20

// smallBlob is the size up to which Put reads a blob whole before storing
// it in one request.
const smallBlob = 1 << 20

// Config says where the blobs are.
type Config struct {
	Bucket string
	// Prefix, if set, is prepended (with a "/") to every key, so that several
	// nodes or uses can share one bucket.
	Prefix string
	// Endpoint is the host[:port] of the S3 service; default s3.amazonaws.com.
	Endpoint string
	// Region of the bucket; empty asks the service (one extra request).
	Region string
	// Insecure speaks plain HTTP: only for a local test server or a
	// service reached over a private link.
	Insecure bool
	// Style of bucket addressing: "path" (host/bucket/key, what MinIO,
	// Garage and most self-hosted services want), "virtual"
	// (bucket.host/key) or "" to let minio-go choose by endpoint.
	Style string
	// Creds signs requests; nil takes them from the environment
	// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or MINIO_ROOT_USER and
	// MINIO_ROOT_PASSWORD), then ~/.aws/credentials and ~/.mc/config.json.
	Creds *credentials.Credentials
	// IAM lets Creds == nil fall back to the role of the cloud machine or
	// container the node runs on (EC2 instance metadata, ECS, EKS). Off
	// by default: elsewhere it would send requests to a metadata address
	// that is not there.
	IAM bool
	// PartSize of multipart uploads; default DefaultPartSize.
	PartSize uint64
}

// ParseURL reads a --blob setting of the form
//
//	s3://bucket[/prefix]?endpoint=host:port&region=r&insecure=1&style=path&iam=1
//
// insecure=1 may also be written tls=0, and endpoint may be a URL whose
// scheme (http or https) says whether to use TLS. Credentials never go in
// the URL (it ends up in config files and logs): they come from the
// environment, as Config.Creds says, or with iam=1 from the cloud's role.
func ParseURL(raw string) (Config, error) {
	const op = "s3.ParseURL"
	bad := func(msg string) (Config, error) {
		return Config{}, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("--blob %s: %s", raw, msg))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return bad("expected s3://bucket[/prefix]?endpoint=host:port&region=…")
	}
	if u.User != nil {
		return bad("credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	c := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	if c.Prefix != "" {
		if err := checkKey(op, c.Prefix); err != nil {
			return bad("the prefix must be a clean relative path")
		}
	}
	q := u.Query()
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "endpoint":
			c.Endpoint = v
			if ep, err := url.Parse(v); err == nil && (ep.Scheme == "http" || ep.Scheme == "https") {
				c.Endpoint, c.Insecure = ep.Host, ep.Scheme == "http"
			}
		case "region":
			c.Region = v
		case "iam":
			on, ok := parseBool(v)
			if !ok {
				return bad("iam must be 1 or 0")
			}
			c.IAM = on
		case "insecure", "tls":
			on, ok := parseBool(v)
			if !ok {
				return bad(k + " must be 1 or 0")
			}
			c.Insecure = on == (k == "insecure")
		case "style":
			if v != "path" && v != "virtual" && v != "auto" {
				return bad("style must be path, virtual or auto")
			}
			c.Style = strings.TrimSuffix(v, "auto")
		default:
			return bad("unknown option " + k + " (known: endpoint, region, insecure, tls, style, iam)")
		}
	}
	if c.Endpoint == "" {
		c.Endpoint = "s3.amazonaws.com"
	}
	return c, nil
}

func parseBool(v string) (on, ok bool) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// Store is a nineten.BlobStore on an S3 bucket.
type Store struct {
	client   *minio.Client
	bucket   string
	prefix   string // "" or "some/prefix/"
	where    string // endpoint and bucket, for messages
	partSize uint64
}

var _ nineten.BlobStore = (*Store)(nil)

// Open connects to the bucket c names and checks that it exists and that
// the credentials are accepted, so that a misconfigured node fails at start
// rather than on its first upload.
func Open(ctx context.Context, c Config) (*Store, error) {
	const op = "s3.Open"
	if c.Bucket == "" {
		return nil, nineten.E(op, nineten.KindInvalid, "no bucket given")
	}
	if c.Endpoint == "" {
		c.Endpoint = "s3.amazonaws.com"
	}
	creds := c.Creds
	if creds == nil {
		chain := []credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{},
			&credentials.FileAWSCredentials{}, &credentials.FileMinioClient{},
		}
		if c.IAM {
			chain = append(chain, &credentials.IAM{})
		}
		creds = credentials.NewChainCredentials(chain)
	}
	lookup := minio.BucketLookupAuto
	switch c.Style {
	case "path":
		lookup = minio.BucketLookupPath
	case "virtual":
		lookup = minio.BucketLookupDNS
	case "":
	default:
		return nil, nineten.E(op, nineten.KindInvalid, "bucket style must be path or virtual, not "+c.Style)
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds: creds, Secure: !c.Insecure, Region: c.Region, BucketLookup: lookup,
	})
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "bad S3 endpoint "+c.Endpoint, err)
	}
	s := &Store{client: client, bucket: c.Bucket, where: fmt.Sprintf("bucket %s at %s", c.Bucket, c.Endpoint), partSize: c.PartSize}
	if c.Prefix != "" {
		s.prefix = strings.Trim(c.Prefix, "/") + "/"
	}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	v, err := creds.GetWithContext(&credentials.CredContext{Client: http.DefaultClient})
	if err != nil || v.SignerType.IsAnonymous() {
		return nil, nineten.E(op, nineten.KindUnavailable, "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or add iam=1 to use the cloud machine's role)", err)
	}
	// A listing, not a HEAD of the bucket: errors of a HEAD have no body,
	// and some services answer an unknown key with 404 there, which would
	// read as a missing bucket. Listing is also a permission the node needs.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister after the first page
	if o, ok := <-client.ListObjects(ctx, c.Bucket, minio.ListObjectsOptions{Prefix: s.prefix, MaxKeys: 1}); ok && o.Err != nil {
		return nil, s.fail(op, "cannot list "+s.where, o.Err)
	}
	return s, nil
}

// Close releases nothing: the client holds only pooled connections. It
// lets the node close any blob store alike.
func (s *Store) Close() error { return nil }

// fail classifies an error of the S3 client: missing objects are
// KindNotFound; refused credentials, missing buckets, failing or
// unreachable services are KindUnavailable with a message saying what to
// check. A cancelled context stays what it is.
func (s *Store) fail(op, msg string, err error) error {
	if errors.Is(err, context.Canceled) {
		return nineten.E(op, msg, err)
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.Code {
		case minio.NoSuchKey:
			return nineten.E(op, nineten.KindNotFound, msg, err)
		case minio.PreconditionFailed:
			return nineten.E(op, nineten.KindConflict, msg+": the blob was replaced while it was read", err)
		case minio.NoSuchBucket:
			return nineten.E(op, nineten.KindUnavailable, s.where+" does not exist: create it, or fix --blob", err)
		case minio.AccessDenied, minio.InvalidAccessKeyID, minio.SignatureDoesNotMatch, "ExpiredToken", "InvalidToken", "AllAccessDisabled",
			"XAdminUserNotFound": // versitygw's answer to an unknown access key
			return nineten.E(op, nineten.KindUnavailable, s.where+" refused our credentials ("+resp.Code+"): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions", err)
		}
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return nineten.E(op, nineten.KindNotFound, msg, err)
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
			return nineten.E(op, nineten.KindUnavailable, s.where+" refused our credentials: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions", err)
		case resp.StatusCode >= 500 || resp.Code == "SlowDown":
			return nineten.E(op, nineten.KindUnavailable, s.where+" is failing; retry later", err)
		}
		return nineten.E(op, msg, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return nineten.E(op, nineten.KindUnavailable, "cannot reach "+s.where+": check the endpoint in --blob and the network", err)
	}
	return nineten.E(op, msg, err)
}

// checkKey rejects keys that are not clean relative slash paths, as
// blob/disk does: S3 would take any string, but "a//b" and "a/./b" would
// then name blobs no other store could hold.
func checkKey(op, key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || key == "." ||
		strings.HasPrefix(key, "../") || key == ".." || strings.Contains(key, "\\") {
		return nineten.E(op, nineten.KindInvalid, "bad blob key "+key)
	}
	return nil
}

func (s *Store) object(key string) string { return s.prefix + key }

// Put stores r under key. A blob up to 1 MiB goes up in one PUT; a larger
// one streams as a multipart upload of unknown length, holding one part in
// memory at a time. The object appears only when the upload completes; a
// failed or cancelled upload is aborted and leaves any old object as it was.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	const op = "s3.Put"
	if err := checkKey(op, key); err != nil {
		return 0, err
	}
	src := &source{r: r}
	// Most blobs (segments, covers, playlists) are small: one PUT of
	// known length stores them, where an upload of unknown length costs
	// three requests (start, part, complete).
	head := make([]byte, smallBlob)
	n, err := io.ReadFull(src, head)
	var info minio.UploadInfo
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		info, err = s.client.PutObject(ctx, s.bucket, s.object(key), bytes.NewReader(head[:n]), int64(n), minio.PutObjectOptions{})
	case err == nil:
		info, err = s.client.PutObject(ctx, s.bucket, s.object(key), io.MultiReader(bytes.NewReader(head), src), -1, minio.PutObjectOptions{PartSize: s.partSize})
	}
	if src.err != nil {
		// minio-go saw errSource, not an end, and aborted the upload.
		return 0, nineten.E(op, "cannot store "+key+": reading its content failed", src.err)
	}
	if err != nil {
		return 0, s.fail(op, "cannot store "+key, err)
	}
	return info.Size, nil
}

// source passes the caller's stream to minio-go, keeping its read errors
// apart from its end: minio-go takes io.ErrUnexpectedEOF from a source for
// the end of it, and would complete the upload of a truncated object when
// an HTTP body broke off. Errors stick, so none is lost in a part buffer.
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, errSource
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
		return n, errSource
	}
	return n, err
}

var errSource = errors.New("reading the content to store failed")

// Import uploads the local file at localPath to key and removes the file.
// Its size is known, so small files go up in one PUT and large ones in
// parts read straight from the file, several at once.
func (s *Store) Import(ctx context.Context, key, localPath string) error {
	const op = "s3.Import"
	if err := checkKey(op, key); err != nil {
		return err
	}
	f, err := os.Open(localPath)
	if err != nil {
		return nineten.E(op, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nineten.E(op, err)
	}
	if _, err := s.client.PutObject(ctx, s.bucket, s.object(key), f, st.Size(), minio.PutObjectOptions{PartSize: s.partSize}); err != nil {
		return s.fail(op, "cannot store "+key, err)
	}
	if err := os.Remove(localPath); err != nil {
		return nineten.E(op, "stored "+key+" but cannot remove the local file", err)
	}
	return nil
}

// object is an open S3 object. Open costs one HEAD (size, time, ETag);
// each Read after a Seek starts one GET of the range from the new offset
// to the end, so serving an HTTP Range never downloads the object from its
// start, and Close ends the GET early. Every GET is pinned to the HEAD's
// object: it carries If-Match with its ETag, and its answer must name the
// same ETag and total size (Content-Range), or the read fails with
// KindConflict. So a reader sees the blob it opened, or an error, never a
// mix of it and a replacement; the second check also catches a service
// whose HEAD answered from two versions at once during an overwrite.
type object struct {
	ctx   context.Context
	s     *Store
	key   string
	size  int64
	mtime time.Time
	etag  string

	off     int64         // where the next Read reads
	body    io.ReadCloser // the GET in flight, at bodyOff; nil if none
	bodyOff int64
	closed  bool
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mtime }

func (o *object) Close() error {
	o.closed = true
	o.stop()
	return nil
}

// stop ends the GET in flight, if any.
func (o *object) stop() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, nineten.E("s3.Seek", nineten.KindInvalid, "bad whence")
	}
	if offset < 0 {
		return 0, nineten.E("s3.Seek", nineten.KindInvalid, "seek before the start of "+o.key)
	}
	o.off = offset
	return offset, nil
}

func (o *object) Read(p []byte) (int, error) {
	if o.closed {
		return 0, nineten.E("s3.Read", nineten.KindInvalid, o.key+" is closed", os.ErrClosed)
	}
	if o.off >= o.size {
		return 0, io.EOF
	}
	if o.body == nil || o.bodyOff != o.off {
		if err := o.get(); err != nil {
			return 0, err
		}
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	o.bodyOff += int64(n)
	switch {
	case err == io.EOF && o.off < o.size:
		err = nineten.E("s3.Read", nineten.KindUnavailable, fmt.Sprintf("%s ended after %d of %d bytes", o.key, o.off, o.size), io.ErrUnexpectedEOF)
	case err == io.EOF:
	case err != nil:
		err = o.s.fail("s3.Read", "cannot read "+o.key, err)
	}
	return n, err
}

// get starts the GET of the object from o.off on.
func (o *object) get() error {
	const op = "s3.Read"
	o.stop()
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(o.off, o.size-1); err != nil {
		return nineten.E(op, nineten.KindInvalid, err)
	}
	if err := opts.SetMatchETag(o.etag); err != nil {
		return nineten.E(op, nineten.KindInvalid, err)
	}
	body, info, header, err := minio.Core{Client: o.s.client}.GetObject(o.ctx, o.s.bucket, o.s.object(o.key), opts)
	if err != nil {
		return o.s.fail(op, "cannot read "+o.key, err)
	}
	_, total, _ := strings.Cut(header.Get("Content-Range"), "/")
	if info.ETag != o.etag || total != strconv.FormatInt(o.size, 10) {
		body.Close()
		return nineten.E(op, nineten.KindConflict, fmt.Sprintf("cannot read %s: the blob was replaced while it was read", o.key))
	}
	o.body, o.bodyOff = body, o.off
	return nil
}

// Open opens the blob at key for reading; it reads nothing yet.
func (s *Store) Open(ctx context.Context, key string) (nineten.Blob, error) {
	const op = "s3.Open"
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return nil, s.fail(op, key+" does not exist", err)
	}
	// Last-Modified has whole seconds, and the same for every HEAD of the
	// object: what makes ETags of size and time stable across processes.
	return &object{ctx: ctx, s: s, key: key, size: info.Size, mtime: info.LastModified.UTC(), etag: info.ETag}, nil
}

// Delete removes key; a missing key is not an error (S3 says so itself).
func (s *Store) Delete(ctx context.Context, key string) error {
	const op = "s3.Delete"
	if err := checkKey(op, key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{}); err != nil {
		return s.fail(op, "cannot delete "+key, err)
	}
	return nil
}

// DeletePrefix removes every object under prefix + "/", listing them and
// deleting them in batches of up to 1,000 (S3's multi-object delete).
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	const op = "s3.DeletePrefix"
	if err := checkKey(op, prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listed := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.object(prefix) + "/", Recursive: true})
	doomed := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(doomed)
		for o := range listed {
			if o.Err != nil {
				listErr = o.Err
				cancel()
				return
			}
			select {
			case doomed <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	var errs []error
	for e := range s.client.RemoveObjects(ctx, s.bucket, doomed, minio.RemoveObjectsOptions{}) {
		if len(errs) < 3 {
			errs = append(errs, fmt.Errorf("%s: %w", e.ObjectName, e.Err))
		}
	}
	// RemoveObjects has drained doomed, so the lister is done with listErr.
	if listErr != nil {
		return s.fail(op, "cannot list "+prefix, listErr)
	}
	if err := errors.Join(errs...); err != nil {
		return s.fail(op, "cannot delete everything under "+prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return nineten.E(op, err)
	}
	return nil
}

// List returns every key under prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	const op = "s3.List"
	if err := checkKey(op, prefix); err != nil {
		return nil, err
	}
	var keys []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.object(prefix) + "/", Recursive: true}) {
		if o.Err != nil {
			return nil, s.fail(op, "cannot list "+prefix, o.Err)
		}
		// Keys ending in "/" are folder markers some tools make, not blobs.
		if key := strings.TrimPrefix(o.Key, s.prefix); !strings.HasSuffix(key, "/") {
			keys = append(keys, key)
		}
	}
	// S3 lists in byte order already; sorting keeps the promise for
	// services that may not.
	slices.Sort(keys)
	return keys, nil
}

// PresignGet returns a URL that lets whoever holds it GET the blob at key
// directly from the bucket until ttl has passed. header names response
// headers the service must send (Content-Type, Content-Disposition,
// Cache-Control), as S3 allows a signed URL to override them. The node
// uses it to redirect players instead of relaying media bytes; it is an
// optional capability, not part of the BlobStore port.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration, header http.Header) (*url.URL, error) {
	const op = "s3.PresignGet"
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	params := url.Values{}
	for name, vs := range header {
		switch name {
		case "Content-Type", "Content-Disposition", "Cache-Control", "Content-Language", "Content-Encoding", "Expires":
			params.Set("response-"+strings.ToLower(name), vs[0])
		default:
			return nil, nineten.E(op, nineten.KindInvalid, "S3 cannot override the response header "+name)
		}
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, s.object(key), ttl, params)
	if err != nil {
		return nil, s.fail(op, "cannot sign a URL for "+key, err)
	}
	return u, nil
}
